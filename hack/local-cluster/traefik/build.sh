#!/usr/bin/env bash
# build.sh: build Traefik v3 (the version go.mod requires) from the Go module proxy into the
# local cluster's cached binaries ($BIN/traefik), or into OUT when given.
#
#   hack/local-cluster/traefik/build.sh [OUT]        REBUILD=1 rebuilds an existing $BIN/traefik
#
# The module proxy refuses (403) a few modules that Traefik's cmd/traefik needs, so two of
# its dependencies are built from local copies that this script makes in third_party/
# (gitignored) out of versions the proxy does serve, each with one small, explained change:
#
#   third_party/go-http-auth  github.com/abbot/go-http-auth at $AUTH_VERSION (upstream).
#       Traefik replaces it with its fork github.com/containous/go-http-auth, which is
#       refused. The fork adds DigestAuth.RequireAuthStale, called by the digestAuth
#       middleware when CheckAuth reports a stale nonce; upstream CheckAuth never reports
#       one, so the added method (stale.go) just asks for authentication again.
#   third_party/lego          github.com/go-acme/lego/v5 at the version go.mod requires,
#       with the DNS-01 providers in $DROP_DNS removed from providers/dns: their SDKs are
#       refused. Asking Traefik's ACME resolver for one of them fails with lego's own
#       "unrecognized DNS provider"; every other provider and the ACME code are untouched.
#
# github.com/traefik/traefik/dynamic/ext, a nested module of the Traefik repository that is
# not served, is ./ext (two empty structs, as upstream). The web dashboard's assets are built
# by npm upstream and are not in the module: run with api.dashboard=false.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
MOD="$HERE/traefik"

AUTH_VERSION=v0.4.1-0.20220112235402-e1cee1c72f2f   # abbot/go-http-auth master, 2022-01-12
# lego v5 DNS providers whose SDK modules the proxy refuses (403), and the refused module:
DROP_DNS=(
  alidns        # github.com/go-acme/alidns-20150109/v5
  aliesa        # github.com/go-acme/esa-20240910/v3
  azion         # github.com/aziontech/azionapi-go-sdk
  dnsimple      # github.com/dnsimple/dnsimple-go/v9
  edgedns       # github.com/akamai/AkamaiOPEN-edgegrid-golang/v13 (also "fastdns")
  edgeone       # github.com/go-acme/tencentedgdeone
  huaweicloud   # github.com/huaweicloud/huaweicloud-sdk-go-v3
  oraclecloud   # github.com/nrdcg/oci-go-sdk/{common,dns}/v1065
  regfish       # github.com/regfish/regfish-dnsapi-go
  sakuracloud   # github.com/sacloud/sacloud-sdk-go
  tencentcloud  # github.com/go-acme/tencentclouddnspod
  ucloud        # github.com/ucloud/ucloud-sdk-go
  yandexcloud   # github.com/yandex-cloud/go-sdk/services/dns
)

die() { echo "traefik/build.sh: $*" >&2; exit 1; }
out=${1:-$BIN/traefik}
if [[ $# == 0 && -x $out && ${REBUILD:-0} != 1 ]]; then exit 0; fi

# modcopy MODULE VERSION DIR: a writable copy of MODULE@VERSION from the module cache.
modcopy() {
  local src
  src=$(cd / && GOFLAGS=-mod=mod go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || die "go mod download $1@$2 gave no directory"
  rm -rf "$3" && mkdir -p "$(dirname "$3")" && cp -r "$src" "$3" && chmod -R u+w "$3"
}

lego_version=$(cd "$MOD" && go mod edit -json | sed -n '/"Path": "github.com\/go-acme\/lego\/v5",$/{n;s/.*"Version": "\(.*\)".*/\1/p;q}')
[[ -n $lego_version ]] || die "go.mod requires no github.com/go-acme/lego/v5"

modcopy github.com/abbot/go-http-auth "$AUTH_VERSION" "$MOD/third_party/go-http-auth"
cat >"$MOD/third_party/go-http-auth/stale.go" <<'GO'
package auth

import "net/http"

// RequireAuthStale is the API of Traefik's fork (github.com/containous/go-http-auth), which
// the module proxy does not serve. Upstream CheckAuth never reports a stale nonce, so this
// asks for authentication again like RequireAuth.
func (da *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	da.RequireAuth(w, r)
}
GO

modcopy github.com/go-acme/lego/v5 "$lego_version" "$MOD/third_party/lego"
reg="$MOD/third_party/lego/providers/dns/zz_gen_dns_providers.go"
for p in "${DROP_DNS[@]}"; do
  grep -q "^	\"github.com/go-acme/lego/v5/providers/dns/$p\"\$" "$reg" || die "lego $lego_version has no DNS provider $p"
  rm -rf "$MOD/third_party/lego/providers/dns/$p"
  # the import line, and the "case NAMES:" line followed by "return P.NewDNSProvider()"
  sed -i -e "\\#^	\"github.com/go-acme/lego/v5/providers/dns/$p\"\$#d" \
    -e "/^	case .*:\$/{N;/\\n		return $p\\.NewDNSProvider()\$/d}" "$reg"
  ! grep -q "\\b$p\\." "$reg" || die "could not drop DNS provider $p from $reg"
done

tv=$(cd "$MOD" && go list -m -f '{{.Version}}' github.com/traefik/traefik/v3)
mkdir -p "$(dirname "$out")"
tmp="$out.new.$$"
(cd "$MOD" && CGO_ENABLED=0 go build -trimpath \
  -ldflags="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$tv" \
  -o "$tmp" github.com/traefik/traefik/v3/cmd/traefik) || { rm -f "$tmp"; die "go build failed"; }
mv -f "$tmp" "$out"   # renamed into place: no "text file busy" while it runs
echo "traefik/build.sh: built Traefik $tv into $out"
