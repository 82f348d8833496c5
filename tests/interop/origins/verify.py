"""An origin's check of what torii-edge forwards, in Python with PyJWT only (the recipe of
docs/origin.md, "Python"; PyJWT with `cryptography` for Ed25519). Usage:
  python verify.py assertion < {"jwks_url", "issuer", "audience", "request": {"method", "path", "headers"}}
  python verify.py session   < {"jwks_url", "issuer", "token"}
htu = audience (ORIGIN_URL's origin) + path (the request-target received). Prints one JSON
verdict, {"ok": true, "claims": {...}} or {"ok": false, "error": "expired" | "signature" |
"binding" | "invalid", "message"}, and exits 0 when it accepts, 1 when it refuses.
"""
import base64
import hashlib
import json
import sys

import jwt

ASSERTION_TYP = "torii-edge-assertion+jwt"
# The identity headers bound by `ihash`, in this order (docs/origin.md).
IDENTITY = ["x-torii-user-id", "x-torii-session-id", "x-torii-tenant-id", "x-torii-issuer",
            "x-torii-org-id", "x-torii-org-role", "x-torii-aal", "x-torii-claims"]


class Binding(Exception):
    pass


def verify_assertion(jwks_url, issuer, audience, request):
    headers = {n.lower(): v for n, v in request["headers"].items()}
    token = headers.get("x-torii-edge-assertion", "")
    if jwt.get_unverified_header(token).get("typ") != ASSERTION_TYP:
        raise jwt.InvalidTokenError("typ is not " + ASSERTION_TYP)
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=issuer, audience=audience,
                        options={"require": ["exp", "iat", "htm", "htu", "ihash"]})
    if not claims["iat"] <= claims["exp"] <= claims["iat"] + 60:
        raise jwt.InvalidTokenError("lives longer than 60 s")
    canonical = "".join("%s:%s\n" % (n, headers[n]) for n in IDENTITY if n in headers)
    ihash = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    if claims["htm"] != request["method"]:
        raise Binding("htm is %s, the request's method %s" % (claims["htm"], request["method"]))
    if claims["htu"] != audience + request["path"]:
        raise Binding("htu is %s, the request's URL %s" % (claims["htu"], audience + request["path"]))
    if claims["ihash"] != ihash:
        raise Binding("ihash does not match the identity headers")
    return claims


def verify_session(jwks_url, issuer, token):
    if jwt.get_unverified_header(token).get("typ") == ASSERTION_TYP:
        raise jwt.InvalidTokenError("an edge assertion is no session token")
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=issuer,
                      options={"require": ["exp", "iat", "sub"], "verify_aud": False})


def kind(e):
    if isinstance(e, Binding):
        return "binding"
    if isinstance(e, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(e, jwt.InvalidSignatureError):
        return "signature"
    return "invalid"


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    data = json.load(sys.stdin)
    try:
        if mode == "assertion":
            claims = verify_assertion(data["jwks_url"], data["issuer"], data["audience"], data["request"])
        elif mode == "session":
            claims = verify_session(data["jwks_url"], data["issuer"], data["token"])
        else:
            raise ValueError("usage: verify.py assertion|session < input.json")
    except Exception as e:  # every refusal is a verdict
        print(json.dumps({"ok": False, "error": kind(e), "message": str(e)}))
        return 1
    print(json.dumps({"ok": True, "claims": claims}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
