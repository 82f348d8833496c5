# An origin's check of what torii-edge forwards, in Ruby with ruby-jwt only (the recipe of
# docs/origin.md, "Ruby"; Debian's ruby-jwt with ruby-rbnacl for Ed25519; ruby-jwt 2.5
# reads no OKP JWK, so the key is built from the JWK's `x`). Usage:
#   ruby verify.rb assertion < {"jwks_url", "issuer", "audience", "request": {"method", "path", "headers"}}
#   ruby verify.rb session   < {"jwks_url", "issuer", "token"}
# htu = audience (ORIGIN_URL's origin) + path (the request-target received). Prints one JSON
# verdict, {"ok": true, "claims": {...}} or {"ok": false, "error": "expired" | "signature" |
# "binding" | "invalid", "message"}, and exits 0 when it accepts, 1 when it refuses.
require 'base64'
require 'digest'
require 'json'
require 'net/http'
require 'rbnacl'
require 'jwt'

ASSERTION_TYP = 'torii-edge-assertion+jwt'
# The identity headers bound by `ihash`, in this order (docs/origin.md).
IDENTITY = %w[x-torii-user-id x-torii-session-id x-torii-tenant-id x-torii-issuer
              x-torii-org-id x-torii-org-role x-torii-aal x-torii-claims].freeze

class BindingMismatch < StandardError; end

# The signature (EdDSA, the JWKS key named by kid), typ, iss, aud (when given), exp, iat.
def verify(token, jwks_url, issuer, audience, required, assertion)
  keys = JSON.parse(Net::HTTP.get(URI(jwks_url)))['keys']
  options = { algorithms: ['EdDSA'], iss: issuer, verify_iss: true, verify_iat: true, required_claims: required }
  options.merge!(aud: audience, verify_aud: true) if audience
  claims, = JWT.decode(token, nil, true, options) do |header|
    raise JWT::DecodeError, "typ is #{header['typ'].inspect}" if assertion != (header['typ'] == ASSERTION_TYP)
    jwk = keys.find { |k| k['kid'] == header['kid'] && k['kty'] == 'OKP' && k['crv'] == 'Ed25519' }
    raise JWT::DecodeError, "no key #{header['kid'].inspect} in the JWKS" unless jwk
    RbNaCl::Signatures::Ed25519::VerifyKey.new(Base64.urlsafe_decode64(jwk['x'] + '=' * (-jwk['x'].size % 4)))
  end
  claims
end

def verify_assertion(input)
  request = input.fetch('request')
  headers = request.fetch('headers').transform_keys(&:downcase)
  audience = input.fetch('audience')
  claims = verify(headers['x-torii-edge-assertion'].to_s, input.fetch('jwks_url'), input.fetch('issuer'), audience,
                  %w[exp iat htm htu ihash], true)
  raise JWT::DecodeError, 'lives longer than 60 s' if claims['exp'] - claims['iat'] > 60

  canonical = IDENTITY.select { |n| headers.key?(n) }.map { |n| "#{n}:#{headers[n]}\n" }.join
  ihash = Base64.urlsafe_encode64(Digest::SHA256.digest(canonical), padding: false)
  raise BindingMismatch, "htm is #{claims['htm']}, the request's method #{request['method']}" if claims['htm'] != request['method']
  raise BindingMismatch, "htu is #{claims['htu']}, the request's URL #{audience + request['path']}" if claims['htu'] != audience + request['path']
  raise BindingMismatch, 'ihash does not match the identity headers' if claims['ihash'] != ihash

  claims
end

def kind(error)
  case error
  when BindingMismatch then 'binding'
  when JWT::ExpiredSignature then 'expired'
  when JWT::VerificationError then 'signature'
  else 'invalid'
  end
end

input = JSON.parse($stdin.read)
begin
  claims = case ARGV[0]
           when 'assertion' then verify_assertion(input)
           when 'session' then verify(input.fetch('token'), input.fetch('jwks_url'), input.fetch('issuer'), nil, %w[exp iat sub], false)
           else raise ArgumentError, 'usage: verify.rb assertion|session < input.json'
           end
  puts JSON.generate(ok: true, claims: claims)
rescue StandardError => e
  puts JSON.generate(ok: false, error: kind(e), message: e.message)
  exit 1
end
