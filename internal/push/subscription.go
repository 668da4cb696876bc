package push

import (
	"crypto/ecdh"
	"net"
	"net/url"

	"github.com/carecircle/carecircle"
)

// maxEndpointLen bounds what a client may make us store and POST to; real
// push service endpoints are a few hundred characters.
const maxEndpointLen = 2048

// Subscription is a browser's PushSubscription: the push service URL to POST
// to and the keys (RFC 8291) that encrypt messages for that browser. P256dh
// and Auth are base64 as the browser's getKey() export gives them (URL-safe
// without padding; padded and standard base64 are accepted too).
type Subscription struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// Validate checks sub as it arrives from a browser. It returns an EINVALID
// *carecircle.Error whose Fields name endpoint, keys.p256dh and keys.auth.
// The endpoint must be https; plain http is allowed only for loopback hosts
// so in-process test push services work.
func (sub Subscription) Validate() error {
	var p carecircle.Problems
	if msg := endpointProblem(sub.Endpoint); msg != "" {
		p.Add(true, "endpoint %s", msg)
	}
	p.Add(!validP256dh(sub.P256dh), "keys.p256dh should be a base64url-encoded uncompressed P-256 public key (65 bytes)")
	p.Add(!validAuth(sub.Auth), "keys.auth should be a base64url-encoded 16-byte secret")
	return p.Err()
}

func endpointProblem(endpoint string) string {
	if endpoint == "" {
		return "should not be empty"
	}
	if len(endpoint) > maxEndpointLen {
		return "should be at most 2048 characters"
	}
	u, err := url.Parse(endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return "should be an absolute https URL"
	}
	if u.User != nil {
		return "should not contain user credentials"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return ""
		}
	}
	return "should be an https URL"
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validP256dh(s string) bool {
	b, err := decodeBase64(s)
	if err != nil || len(b) != 65 {
		return false
	}
	// NewPublicKey accepts only the uncompressed form and checks the point
	// is on the curve, so encryption cannot fail later on a bad key.
	_, err = ecdh.P256().NewPublicKey(b)
	return err == nil
}

func validAuth(s string) bool {
	b, err := decodeBase64(s)
	return err == nil && len(b) == 16
}
