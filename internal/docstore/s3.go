package docstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// S3 part sizing. S3 requires every part but the last to be at least 5 MiB.
const (
	minPartSize        = 5 << 20
	defaultConcurrency = 2
	abortTimeout       = 30 * time.Second
)

// S3Config configures an S3-compatible bucket.
type S3Config struct {
	Bucket string
	// Region defaults to us-east-1 (what MinIO-like stores expect).
	Region string
	// Endpoint, when set, replaces AWS's (e.g. "http://minio:9000").
	Endpoint string
	// UsePathStyle addresses the bucket as a path, as most non-AWS stores need.
	UsePathStyle bool
	// AccessKeyID and SecretAccessKey, when both set, are used instead of the
	// SDK's default credential chain (env, shared files, instance role).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Prefix is prepended to every key (e.g. "documents/").
	Prefix string
	// PartSize is the multipart part size; default and minimum 5 MiB. Memory
	// per upload is about PartSize × (Concurrency+1).
	PartSize int64
	// Concurrency is how many parts upload at once; default 2.
	Concurrency int
}

// S3 stores objects in an S3-compatible bucket.
type S3 struct {
	client      *s3.Client
	bucket      string
	prefix      string
	partSize    int
	concurrency int
	parts       sync.Pool // *[]byte of partSize, shared by all uploads
}

var _ Blobs = (*S3)(nil)

// NewS3 builds the client. Checksums are computed and validated only when an
// operation requires them, which keeps third-party S3 implementations (that
// reject the SDK's newer default trailing checksums) working.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	if c.Bucket == "" {
		return nil, errors.New("s3 blobs: bucket is required")
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if c.AccessKeyID != "" && c.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 blobs: load config: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.UsePathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	partSize := max(c.PartSize, minPartSize)
	concurrency := c.Concurrency
	if concurrency <= 0 {
		concurrency = defaultConcurrency
	}
	s := &S3{client: client, bucket: c.Bucket, prefix: c.Prefix, partSize: int(partSize), concurrency: concurrency}
	s.parts.New = func() any { b := make([]byte, s.partSize); return &b }
	return s, nil
}

func (s *S3) objectKey(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Put streams r into the bucket. Up to one part is read first; a smaller
// object goes up in a single PutObject, anything larger as a multipart upload
// whose parts are read one at a time while up to Concurrency earlier parts
// upload. On failure the multipart upload is aborted, so nothing is left.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	k, err := s.objectKey(key)
	if err != nil {
		return fmt.Errorf("s3 put: %w", err)
	}
	r = ctxReader{ctx, r}
	firstp := s.parts.Get().(*[]byte)
	first := *firstp
	n, err := io.ReadFull(r, first)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(k),
			Body:          bytes.NewReader(first[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			// Not pooled: after a failed request the transport may still
			// be reading the body.
			return fmt.Errorf("s3 put %s: %w", key, err)
		}
		s.parts.Put(firstp)
		return nil
	}
	if err != nil {
		s.parts.Put(firstp)
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	if err := s.putMultipart(ctx, k, firstp, r); err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}

// putMultipart uploads first and the rest of r as parts. It owns first (a
// pooled buffer) and, after a success, returns it and every other buffer to
// the pool. After a failure they are dropped: the transport may still be
// reading a failed request's body.
func (s *S3) putMultipart(ctx context.Context, k string, firstp *[]byte, r io.Reader) (err error) {
	owned := []*[]byte{firstp}
	defer func() {
		if err == nil {
			for _, b := range owned {
				s.parts.Put(b)
			}
		}
	}()
	first := *firstp
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	defer func() {
		if err != nil {
			s.abort(ctx, k, up.UploadId)
		}
	}()

	// Buffers circulate: one being filled, the others uploading. They are
	// allocated only as needed, up to Concurrency+1.
	free := make(chan []byte, s.concurrency+1)
	g, gctx := errgroup.WithContext(ctx)
	nextBuf := func() ([]byte, error) {
		select {
		case b := <-free:
			return b, nil
		default:
		}
		if len(owned) <= s.concurrency {
			b := s.parts.Get().(*[]byte)
			owned = append(owned, b)
			return *b, nil
		}
		select {
		case b := <-free:
			return b, nil
		case <-gctx.Done():
			return nil, context.Cause(gctx)
		}
	}
	g.SetLimit(s.concurrency)
	var mu sync.Mutex
	var parts []types.CompletedPart

	buf, n := first, len(first)
	for num := int32(1); ; num++ {
		part, partNum := buf[:n], num
		g.Go(func() error {
			out, err := s.client.UploadPart(gctx, &s3.UploadPartInput{
				Bucket:        aws.String(s.bucket),
				Key:           aws.String(k),
				UploadId:      up.UploadId,
				PartNumber:    aws.Int32(partNum),
				Body:          bytes.NewReader(part),
				ContentLength: aws.Int64(int64(len(part))),
			})
			if err != nil {
				return fmt.Errorf("upload part %d: %w", partNum, err)
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(partNum)})
			mu.Unlock()
			free <- part[:cap(part)]
			return nil
		})
		if n < len(buf) {
			break // that was the short last part
		}
		var rerr error
		if buf, rerr = nextBuf(); rerr != nil {
			g.Wait()
			return fmt.Errorf("upload parts: %w", rerr)
		}
		n, rerr = io.ReadFull(r, buf)
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			rerr = nil
		}
		if rerr == nil && gctx.Err() != nil {
			rerr = context.Cause(gctx)
		}
		if rerr != nil {
			g.Wait()
			return fmt.Errorf("read part %d: %w", num+1, rerr)
		}
		if n == 0 {
			break // the stream ended exactly on a part boundary
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(k),
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// abort discards a failed multipart upload's parts. It runs even when ctx is
// cancelled (that is often why the upload failed).
func (s *S3) abort(ctx context.Context, k string, uploadID *string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(k),
		UploadId: uploadID,
	})
	if err != nil {
		// The upload's parts linger until a bucket lifecycle rule expires them.
		slog.WarnContext(ctx, "s3 abort multipart upload failed", "key", k, "err", err)
	}
}

// Get streams the object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, fmt.Errorf("s3 get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if isS3NotFound(err) {
		return nil, fmt.Errorf("s3 get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", key, err)
	}
	return out.Body, nil
}

// Delete removes the object; S3 treats a missing key as deleted already.
func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return fmt.Errorf("s3 delete: %w", err)
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if err != nil && !isS3NotFound(err) {
		return fmt.Errorf("s3 delete %s: %w", key, err)
	}
	return nil
}

// Exists reports whether an object is stored under key.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return false, fmt.Errorf("s3 exists: %w", err)
	}
	_, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if isS3NotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("s3 exists %s: %w", key, err)
	}
	return true, nil
}

// isS3NotFound reports a missing object (GetObject says NoSuchKey, HeadObject
// has no body and says NotFound), but not a missing bucket.
func isS3NotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "NoSuchKey", "NotFound":
		return true
	}
	return false
}
