package api

import (
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

func TestFieldMessage_NamesTheField(t *testing.T) {
	tests := []struct {
		loc, msg, want string
	}{
		{"body", "expected required property dosage to be present", "dosage should not be empty"},
		{"body.insurance", "expected required property provider to be present", "insurance.provider should not be empty"},
		{"body.times[1]", "expected string", "times[1] must be a string"},
		{"body.reminders", "expected array length <= 5", "reminders must have at most 5 items"},
		{"body.reminders", "expected array", "reminders must be an array"},
		{"body.name", "expected length <= 200", "name must be at most 200 characters"},
		{"query.limit", "expected number <= 200", "limit must not be greater than 200"},
		{"body.role", "expected value to be one of \"ADMIN, CAREGIVER, VIEWER\"", "role must be one of the following values: ADMIN, CAREGIVER, VIEWER"},
		{"query.limit", "invalid integer", "limit must be a valid integer"},
	}
	for _, tt := range tests {
		if got := fieldMessage(&huma.ErrorDetail{Location: tt.loc, Message: tt.msg}); got != tt.want {
			t.Errorf("fieldMessage(%q, %q) = %q, want %q", tt.loc, tt.msg, got, tt.want)
		}
	}
}
