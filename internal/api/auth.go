package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/storage"
)

// RegisterInput is the body of POST /auth/register.
type RegisterInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254"`
		Password string `json:"password" maxLength:"1024"`
		FullName string `json:"fullName" maxLength:"200"`
		Phone    string `json:"phone,omitempty" maxLength:"32"`
		Timezone string `json:"timezone,omitempty" maxLength:"64"`
	}
}

// LoginInput is the body of POST /auth/login.
type LoginInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254"`
		Password string `json:"password" maxLength:"1024"`
	}
}

// RefreshInput is the body (optional) and cookie of POST /auth/refresh.
type RefreshInput struct {
	Cookie string `cookie:"refreshToken"`
	Body   *struct {
		RefreshToken string `json:"refreshToken,omitempty" maxLength:"200"`
	} `required:"false"`
}

// SessionResponse is what register, login and refresh return: the user and
// the tokens, also set as HttpOnly cookies for browsers.
type SessionResponse struct {
	SetCookie []string `header:"Set-Cookie"`
	Body      struct {
		User         carecircle.Me `json:"user"`
		AccessToken  string        `json:"accessToken"`
		RefreshToken string        `json:"refreshToken"`
		ExpiresAt    time.Time     `json:"expiresAt"`
	}
}

// CookieResponse only sets cookies (logout).
type CookieResponse struct {
	SetCookie []string `header:"Set-Cookie"`
}

type tokenInput struct {
	Body struct {
		Token string `json:"token" maxLength:"200"`
	}
}

type resetInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"200"`
		Password string `json:"password" maxLength:"1024"`
	}
}

type forgotInput struct {
	Body struct {
		Email string `json:"email" maxLength:"254"`
	}
}

type patchMeInput struct {
	Body struct {
		FullName *string `json:"fullName,omitempty" maxLength:"200"`
		Phone    *string `json:"phone,omitempty" maxLength:"32"`
		Timezone *string `json:"timezone,omitempty" maxLength:"64"`
	}
}

type changePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"currentPassword" maxLength:"1024"`
		NewPassword     string `json:"newPassword" maxLength:"1024"`
	}
}

type listSessionsInput struct {
	PageQuery
}

type sessionIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

func (s *Server) registerAuth() {
	const tag = "Auth"
	huma.Register(s.api, op("register", http.MethodPost, "/auth/register", "Create an account (signs in)", tag, 201, false), s.register)
	huma.Register(s.api, op("login", http.MethodPost, "/auth/login", "Sign in", tag, 200, false), s.login)
	huma.Register(s.api, op("refresh", http.MethodPost, "/auth/refresh", "Rotate the refresh token", tag, 200, false), s.refresh)
	huma.Register(s.api, op("logout", http.MethodPost, "/auth/logout", "Sign out this session", tag, 204, false), s.logout)
	huma.Register(s.api, op("forgotPassword", http.MethodPost, "/auth/forgot-password", "Email a password reset link", tag, 202, false), s.forgotPassword)
	huma.Register(s.api, op("resetPassword", http.MethodPost, "/auth/reset-password", "Set a new password with a reset token", tag, 204, false), s.resetPassword)
	huma.Register(s.api, op("verifyEmail", http.MethodPost, "/auth/verify-email", "Confirm the email address", tag, 200, false), s.verifyEmail)
	huma.Register(s.api, op("resendVerification", http.MethodPost, "/auth/resend-verification", "Send the verification email again", tag, 202, true), s.resendVerification)
	huma.Register(s.api, op("me", http.MethodGet, "/auth/me", "The signed-in user and their families", tag, 200, true), s.me)
	huma.Register(s.api, op("updateMe", http.MethodPatch, "/auth/me", "Update profile", tag, 200, true), s.updateMe)
	huma.Register(s.api, op("changePassword", http.MethodPost, "/auth/change-password", "Change password (signs out other sessions)", tag, 204, true), s.changePassword)
	huma.Register(s.api, op("listSessions", http.MethodGet, "/auth/sessions", "Active sessions", tag, 200, true), s.listSessions)
	huma.Register(s.api, op("revokeSession", http.MethodDelete, "/auth/sessions/{id}", "Sign a session out", tag, 204, true), s.revokeSession)
}

// limit applies the auth rate limit to each key; the first key over its
// budget answers 429 with Retry-After. A limiter outage fails open: locking
// every family out of their medication records is worse than a brief window
// without throttling.
func (s *Server) limit(ctx context.Context, keys ...string) error {
	if s.limiter == nil {
		return nil
	}
	for _, k := range keys {
		ok, retry, err := s.limiter.Allow(ctx, k)
		if err != nil {
			logger(ctx).WarnContext(ctx, "rate limiter unavailable; allowing", "err", err)
			return nil
		}
		if !ok {
			secs := int((retry + time.Second - 1) / time.Second)
			if secs < 1 {
				secs = 1
			}
			return rateLimited(secs)
		}
	}
	return nil
}

func (s *Server) meta(ctx context.Context) storage.SessionMeta {
	c := ClientFrom(ctx)
	return storage.SessionMeta{IP: c.IP, UserAgent: c.UserAgent}
}

// sessionResponse issues an access token for the session and builds the
// response with cookies.
func (s *Server) sessionResponse(ctx context.Context, userID string, ns storage.NewSession) (*SessionResponse, error) {
	access, exp, err := s.signer.Issue(userID, ns.Session.ID, s.clock.Now(), carecircle.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	ctx = carecircle.WithActor(ctx, carecircle.Actor{UserID: userID, SessionID: ns.Session.ID})
	me, err := s.db.Me(ctx)
	if err != nil {
		return nil, err
	}
	out := &SessionResponse{SetCookie: s.sessionCookies(access, ns.RefreshToken)}
	out.Body.User, out.Body.AccessToken, out.Body.RefreshToken, out.Body.ExpiresAt = me, access, ns.RefreshToken, exp
	return out, nil
}

// sessionCookies returns the Set-Cookie values for a session. Both cookies
// are HttpOnly and SameSite=Lax, and Secure when the site is served over
// https; the path is / so server-rendered pages can use them too.
func (s *Server) sessionCookies(access, refresh string) []string {
	return []string{
		s.cookie("accessToken", access, carecircle.AccessTokenTTL),
		s.cookie("refreshToken", refresh, carecircle.RefreshTokenTTL),
	}
}

func (s *Server) cookie(name, value string, maxAge time.Duration) string {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies, MaxAge: int(maxAge / time.Second)}
	if value == "" {
		c.MaxAge = -1
	}
	return c.String()
}

// SessionCookies is sessionCookies for the web UI.
func (s *Server) SessionCookies(access, refresh string) []string {
	return s.sessionCookies(access, refresh)
}

func (s *Server) register(ctx context.Context, in *RegisterInput) (*SessionResponse, error) {
	b := in.Body
	ip := ClientFrom(ctx).IP
	if err := s.limit(ctx, "register:ip:"+ip, "register:email:"+carecircle.NormalizeEmail(b.Email)); err != nil {
		return nil, err
	}
	var p carecircle.Problems
	for _, m := range []string{carecircle.ValidateEmail("email", b.Email), auth.CheckPasswordPolicy("password", b.Password),
		carecircle.ValidateFullName("fullName", b.FullName), carecircle.ValidatePhone("phone", b.Phone)} {
		p.Add(m != "", "%s", m)
	}
	if b.Timezone == "" {
		b.Timezone = "UTC"
	}
	if _, m := carecircle.ValidateTimezone("timezone", b.Timezone); m != "" {
		p.Add(true, "%s", m)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(b.Password)
	if err != nil {
		return nil, err
	}
	u, ns, err := s.db.Register(ctx, storage.NewAccount{Email: b.Email, PasswordHash: hash,
		FullName: strings.TrimSpace(b.FullName), Phone: b.Phone, Timezone: b.Timezone}, s.meta(ctx))
	if err != nil {
		return nil, err
	}
	s.sendVerification(ctx, u)
	return s.sessionResponse(ctx, u.ID, ns)
}

func (s *Server) sendVerification(ctx context.Context, u carecircle.User) {
	tok, err := s.db.IssueUserToken(ctx, u.ID, storage.PurposeVerify, carecircle.VerifyTokenTTL)
	if err != nil {
		logger(ctx).ErrorContext(ctx, "verification token not issued", "err", err)
		return
	}
	s.emails.Verify(u.Email, u.FullName, s.cfg.BaseURL+"/verify-email?token="+tok)
}

func (s *Server) login(ctx context.Context, in *LoginInput) (*SessionResponse, error) {
	email := carecircle.NormalizeEmail(in.Body.Email)
	if err := s.limit(ctx, "login:ip:"+ClientFrom(ctx).IP, "login:email:"+email); err != nil {
		return nil, err
	}
	var p carecircle.Problems
	p.Add(email == "", "email should not be empty")
	p.Add(in.Body.Password == "", "password should not be empty")
	if err := p.Err(); err != nil {
		return nil, err
	}
	u, hash, err := s.db.CredentialsFor(ctx, email)
	bad := carecircle.Errorf(carecircle.EUNAUTHORIZED, "email or password is incorrect")
	if carecircle.ErrorCode(err) == carecircle.ENOTFOUND {
		auth.BurnPasswordCheck(in.Body.Password)
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if !auth.CheckPassword(hash, in.Body.Password) {
		return nil, bad
	}
	ns, err := s.db.OpenSession(ctx, u.ID, s.meta(ctx))
	if err != nil {
		return nil, err
	}
	return s.sessionResponse(ctx, u.ID, ns)
}

func (s *Server) refresh(ctx context.Context, in *RefreshInput) (*SessionResponse, error) {
	tok := in.Cookie
	if in.Body != nil && in.Body.RefreshToken != "" {
		tok = in.Body.RefreshToken
	}
	if tok == "" {
		return nil, carecircle.Errorf(carecircle.EUNAUTHORIZED, "refresh token missing")
	}
	userID, ns, err := s.db.Refresh(ctx, tok, s.meta(ctx))
	if err != nil {
		return nil, err
	}
	return s.sessionResponse(ctx, userID, ns)
}

type logoutInput struct {
	Cookie string `cookie:"refreshToken"`
	Body   *struct {
		RefreshToken string `json:"refreshToken,omitempty" maxLength:"200"`
	} `required:"false"`
}

// logout revokes the session named by the access token, or else by the
// refresh token, and clears the cookies. It always answers 204.
func (s *Server) logout(ctx context.Context, in *logoutInput) (*CookieResponse, error) {
	if a, ok := carecircle.ActorFrom(ctx); ok {
		if err := s.db.RevokeSession(ctx, a.SessionID); err != nil && carecircle.ErrorCode(err) != carecircle.ENOTFOUND {
			return nil, err
		}
	} else {
		tok := in.Cookie
		if in.Body != nil && in.Body.RefreshToken != "" {
			tok = in.Body.RefreshToken
		}
		if err := s.db.RevokeSessionByRefresh(ctx, tok); err != nil {
			return nil, err
		}
	}
	return &CookieResponse{SetCookie: s.sessionCookies("", "")}, nil
}

type acceptedResponse struct {
	Body struct {
		Message string `json:"message"`
	}
}

func (s *Server) forgotPassword(ctx context.Context, in *forgotInput) (*acceptedResponse, error) {
	email := carecircle.NormalizeEmail(in.Body.Email)
	if err := s.limit(ctx, "forgot:ip:"+ClientFrom(ctx).IP, "forgot:email:"+email); err != nil {
		return nil, err
	}
	if m := carecircle.ValidateEmail("email", email); m != "" {
		return nil, carecircle.Invalid(m)
	}
	out := &acceptedResponse{}
	out.Body.Message = "If an account exists for that address, a reset link is on its way."
	u, _, err := s.db.CredentialsFor(ctx, email)
	if err != nil {
		if carecircle.ErrorCode(err) != carecircle.ENOTFOUND {
			logger(ctx).ErrorContext(ctx, "forgot password lookup", "err", err)
		}
		return out, nil // never reveal whether the address has an account
	}
	tok, err := s.db.IssueUserToken(ctx, u.ID, storage.PurposeReset, carecircle.ResetTokenTTL)
	if err != nil {
		logger(ctx).ErrorContext(ctx, "reset token not issued", "err", err)
		return out, nil
	}
	s.emails.Reset(u.Email, u.FullName, s.cfg.BaseURL+"/reset-password?token="+tok)
	return out, nil
}

func (s *Server) resetPassword(ctx context.Context, in *resetInput) (*NoContent, error) {
	if err := s.limit(ctx, "reset:ip:"+ClientFrom(ctx).IP); err != nil {
		return nil, err
	}
	var p carecircle.Problems
	p.Add(in.Body.Token == "", "token should not be empty")
	if m := auth.CheckPasswordPolicy("password", in.Body.Password); m != "" {
		p.Add(true, "%s", m)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Body.Password)
	if err != nil {
		return nil, err
	}
	return nil, s.db.ResetPassword(ctx, in.Body.Token, hash)
}

type verifiedResponse struct {
	Body struct {
		EmailVerified bool `json:"emailVerified"`
	}
}

func (s *Server) verifyEmail(ctx context.Context, in *tokenInput) (*verifiedResponse, error) {
	if in.Body.Token == "" {
		return nil, carecircle.Invalid("token should not be empty")
	}
	if err := s.db.VerifyEmail(ctx, in.Body.Token); err != nil {
		return nil, err
	}
	out := &verifiedResponse{}
	out.Body.EmailVerified = true
	return out, nil
}

func (s *Server) resendVerification(ctx context.Context, _ *struct{}) (*acceptedResponse, error) {
	me, err := s.db.Me(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.limit(ctx, "verify:user:"+me.ID); err != nil {
		return nil, err
	}
	out := &acceptedResponse{}
	out.Body.Message = "Your address is already verified."
	if !me.EmailVerified {
		s.sendVerification(ctx, me.User)
		out.Body.Message = "A new verification link is on its way."
	}
	return out, nil
}

func (s *Server) me(ctx context.Context, _ *struct{}) (*Body[carecircle.Me], error) {
	me, err := s.db.Me(ctx)
	return &Body[carecircle.Me]{Body: me}, err
}

func (s *Server) updateMe(ctx context.Context, in *patchMeInput) (*Body[carecircle.Me], error) {
	b := in.Body
	var p carecircle.Problems
	if b.FullName != nil {
		*b.FullName = strings.TrimSpace(*b.FullName)
		if m := carecircle.ValidateFullName("fullName", *b.FullName); m != "" {
			p.Add(true, "%s", m)
		}
	}
	if b.Phone != nil {
		if m := carecircle.ValidatePhone("phone", *b.Phone); m != "" {
			p.Add(true, "%s", m)
		}
	}
	if b.Timezone != nil {
		if _, m := carecircle.ValidateTimezone("timezone", *b.Timezone); m != "" {
			p.Add(true, "%s", m)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if err := s.db.UpdateMe(ctx, storage.UserPatch{FullName: b.FullName, Phone: b.Phone, Timezone: b.Timezone}); err != nil {
		return nil, err
	}
	return s.me(ctx, nil)
}

func (s *Server) changePassword(ctx context.Context, in *changePasswordInput) (*NoContent, error) {
	a, _ := carecircle.ActorFrom(ctx)
	if err := s.limit(ctx, "password:user:"+a.UserID); err != nil {
		return nil, err
	}
	if m := auth.CheckPasswordPolicy("newPassword", in.Body.NewPassword); m != "" {
		return nil, carecircle.Invalid(m)
	}
	hash, err := s.db.PasswordHash(ctx)
	if err != nil {
		return nil, err
	}
	if !auth.CheckPassword(hash, in.Body.CurrentPassword) {
		return nil, carecircle.Invalid("currentPassword is incorrect")
	}
	newHash, err := auth.HashPassword(in.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	return nil, s.db.ChangePassword(ctx, newHash)
}

func (s *Server) listSessions(ctx context.Context, in *listSessionsInput) (*Body[List[carecircle.Session]], error) {
	ss, err := s.db.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	l, err := pageOf(ss, func(s carecircle.Session) string { return s.ID }, in.PageQuery)
	return &Body[List[carecircle.Session]]{Body: l}, err
}

func (s *Server) revokeSession(ctx context.Context, in *sessionIDInput) (*NoContent, error) {
	return nil, s.db.RevokeSession(ctx, in.ID)
}
