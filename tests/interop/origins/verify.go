// An origin's check of what torii-edge forwards, in Go with go-jose v2 only (the recipe of
// docs/origin.md, "Go"; Debian's golang-gopkg-square-go-jose.v2-dev, built offline with
// GO111MODULE=off GOPATH=/usr/share/gocode). Usage:
//
//	verify assertion < {"jwks_url", "issuer", "audience", "request": {"method", "path", "headers"}}
//	verify session   < {"jwks_url", "issuer", "token"}
//
// htu = audience (ORIGIN_URL's origin) + path (the request-target received). Prints one
// JSON verdict, {"ok": true, "claims": {...}} or {"ok": false, "error": "expired" |
// "signature" | "binding" | "invalid", "message"}, and exits 0 when it accepts, 1 when it
// refuses.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	jose "gopkg.in/square/go-jose.v2"
	"gopkg.in/square/go-jose.v2/jwt"
)

const assertionTyp = "torii-edge-assertion+jwt"

// The identity headers bound by `ihash`, in this order (docs/origin.md).
var identity = []string{"x-torii-user-id", "x-torii-session-id", "x-torii-tenant-id", "x-torii-issuer",
	"x-torii-org-id", "x-torii-org-role", "x-torii-aal", "x-torii-claims"}

type input struct {
	JWKSURL  string `json:"jwks_url"`
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	Token    string `json:"token"`
	Request  struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
	} `json:"request"`
}

var errBinding = errors.New("binding")

// verify checks the signature (EdDSA, a key of the JWKS by kid), typ, iss, aud (when
// given), exp and iat; returns every claim.
func verify(token, jwksURL, issuer, audience string, assertion bool) (map[string]interface{}, error) {
	tok, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, err
	}
	h := tok.Headers[0]
	if h.Algorithm != "EdDSA" {
		return nil, fmt.Errorf("alg is %q", h.Algorithm)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if assertion != (typ == assertionTyp) {
		return nil, fmt.Errorf("typ is %q", typ)
	}
	res, err := http.Get(jwksURL)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		return nil, err
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return nil, fmt.Errorf("no key %q in the JWKS", h.KeyID)
	}
	var std jwt.Claims
	var all map[string]interface{}
	if err := tok.Claims(keys[0].Key, &std, &all); err != nil {
		return nil, err
	}
	if std.Expiry == nil || std.IssuedAt == nil {
		return nil, errors.New("exp and iat are required")
	}
	want := jwt.Expected{Issuer: issuer, Time: time.Now()}
	if audience != "" {
		want.Audience = jwt.Audience{audience}
	}
	if err := std.ValidateWithLeeway(want, 0); err != nil {
		return nil, err
	}
	return all, nil
}

func verifyAssertion(in input) (map[string]interface{}, error) {
	headers := map[string]string{}
	for n, v := range in.Request.Headers {
		headers[strings.ToLower(n)] = v
	}
	claims, err := verify(headers["x-torii-edge-assertion"], in.JWKSURL, in.Issuer, in.Audience, true)
	if err != nil {
		return nil, err
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat > 60 {
		return nil, errors.New("lives longer than 60 s")
	}
	var canonical strings.Builder
	for _, n := range identity {
		if v, ok := headers[n]; ok {
			canonical.WriteString(n + ":" + v + "\n")
		}
	}
	sum := sha256.Sum256([]byte(canonical.String()))
	ihash := base64.RawURLEncoding.EncodeToString(sum[:])
	switch {
	case claims["htm"] != in.Request.Method:
		return nil, fmt.Errorf("%w: htm is %v, the request's method %s", errBinding, claims["htm"], in.Request.Method)
	case claims["htu"] != in.Audience+in.Request.Path:
		return nil, fmt.Errorf("%w: htu is %v, the request's URL %s", errBinding, claims["htu"], in.Audience+in.Request.Path)
	case claims["ihash"] != ihash:
		return nil, fmt.Errorf("%w: ihash does not match the identity headers", errBinding)
	}
	return claims, nil
}

func kind(err error) string {
	switch {
	case errors.Is(err, errBinding):
		return "binding"
	case errors.Is(err, jwt.ErrExpired):
		return "expired"
	case errors.Is(err, jose.ErrCryptoFailure):
		return "signature"
	}
	return "invalid"
}

func main() {
	var in input
	var claims map[string]interface{}
	body, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err == nil {
		switch mode := strings.Join(os.Args[1:], " "); mode {
		case "assertion":
			claims, err = verifyAssertion(in)
		case "session":
			if claims, err = verify(in.Token, in.JWKSURL, in.Issuer, "", false); err == nil && claims["sub"] == nil {
				err = errors.New("sub is required")
			}
		default:
			err = errors.New("usage: verify assertion|session < input.json")
		}
	}
	out := json.NewEncoder(os.Stdout)
	if err != nil {
		out.Encode(map[string]interface{}{"ok": false, "error": kind(err), "message": err.Error()})
		os.Exit(1)
	}
	out.Encode(map[string]interface{}{"ok": true, "claims": claims})
}
