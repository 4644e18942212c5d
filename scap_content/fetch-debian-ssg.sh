#!/usr/bin/env bash
# Unpack the SCAP Security Guide content of newer Debian suites into DEST/debian-<suite>/,
# without installing anything system-wide: bookworm's ssg-* (0.1.65) lacks Ubuntu 24.04,
# Debian 12 and 13, RHEL 10 and AlmaLinux 9. Only the datastreams catalog.toml names are kept.
# Usage: fetch-debian-ssg.sh DEST [SUITE...]   (default suites: trixie sid). Idempotent.
#
# The mirror: $DEBIAN_MIRROR when given (`make content DEBIAN_MIRROR=URL`), else the first Debian
# archive in this machine's apt sources. A default suite is skipped when the installed ssg-base
# (Ubuntu's own packages, say) is already as new as that suite's release; a suite named on the
# command line (bookworm, for RHEL 7's content on a machine whose own SSG dropped it) is fetched.
# FETCH_SSG_DRY_RUN=1 prints the mirror and the suites it would fetch, and fetches nothing.
# Exit status: 0 done, 1 failed, 2 no Debian mirror known (nothing fetched; the app says what is missing).
set -euo pipefail
umask 077  # the content lands in the app's data dir, which is private (0700, files 0600)

dest=${1:?usage: fetch-debian-ssg.sh DEST [SUITE...]}
shift
suites=("$@")
explicit=$#
[ $# -gt 0 ] || suites=(trixie sid)
packages=(ssg-debian ssg-debderived ssg-nondebian)
here=$(cd "$(dirname "$0")" && pwd)
catalog="$here/catalog.toml"
apt_etc=${FETCH_SSG_APT_ETC:-/etc/apt}  # tests point this at a made-up Ubuntu machine's sources

# The first Debian archive URI in the apt sources (deb822 or one-line format), not -security.
find_mirror() {
  { cat "$apt_etc"/sources.list.d/*.sources 2>/dev/null | awk '
      /^URIs:/ { uri=$2 } /^Suites:/ { if ($0 !~ /security/ && uri != "") { print uri; exit } }'
    cat "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
  } | grep -v -i -e ubuntu -e ports.ubuntu | head -n 1 || true
}

mirror=${DEBIAN_MIRROR:-$(find_mirror)}
if [ -z "$mirror" ]; then
  cat >&2 <<EOF
fetch-debian-ssg: no Debian mirror in the apt sources (an Ubuntu machine?): newer SSG content not fetched.
  Give one:        make content DEBIAN_MIRROR=http://<a Debian mirror>/debian
  or import a ComplianceAsCode release zip (scap-security-guide-<version>.zip):
                   compliance-tui content import PATH
  \`compliance-tui content list\` says which rows need it.
EOF
  exit 2
fi
case "$mirror" in
  http://* | https://* | file:/*) ;;
  *) echo "fetch-debian-ssg: DEBIAN_MIRROR must be an http(s):// or file:/ URL, not '$mirror'" >&2; exit 1 ;;
esac
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ ! -f "$keyring" ]; then
  echo "fetch-debian-ssg: $keyring is missing: install the debian-archive-keyring package" >&2
  exit 1
fi

# the datastreams to keep, and a stamp that changes when that list changes
wanted=$(grep -o 'ssg-[A-Za-z0-9_.+-]*-ds\.xml' "$catalog" | sort -u)
stamp=$(printf '%s\n' "$wanted" | sha256sum | cut -c1-16)

# version compare: is $1 <= $2 (dpkg's rules)?
not_newer() { dpkg --compare-versions "$1" le "$2"; }
installed=$(dpkg-query -W -f='${Version}' ssg-base 2>/dev/null | sed 's/-[^-]*$//' || true)

for suite in "${suites[@]}"; do
  target="$dest/debian-$suite"
  if [ "$(cat "$target/.complete" 2>/dev/null)" = "$stamp" ]; then
    continue
  fi
  release=$(awk -v s="$suite" '$1 == s && $2 == "=" { gsub(/"/, "", $3); print $3 }' "$catalog")
  if [ "$explicit" = 0 ] && [ -n "$installed" ] && [ -n "$release" ] && not_newer "$release" "$installed"; then
    echo "fetch-debian-ssg: installed ssg-base $installed is as new as $suite's $release; not fetched"
    continue
  fi
  if [ -n "${FETCH_SSG_DRY_RUN:-}" ]; then
    echo "would fetch $suite from $mirror into $target"
    continue
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/debs" "$work/tree" "$work/keep"
  echo "deb [signed-by=$keyring] $mirror $suite main" > "$work/sources.list"
  apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
               -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -q)
  echo "fetching ${packages[*]} from Debian $suite"
  apt-get "${apt_options[@]}" update 2>&1 | grep -v 'unsandboxed' >&2 || true
  (cd "$work/debs" && apt-get "${apt_options[@]}" download "${packages[@]}" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  ls "$work"/debs/*.deb >/dev/null
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$work/tree"
  done
  while read -r name; do
    find "$work/tree" -type f -name "$name" -exec mv -t "$work/keep" {} +
  done <<< "$wanted"
  # file by file, each a rename: a scan or test reading the old files meanwhile is not disturbed
  # (and nothing is removed: a datastream the catalog no longer names is simply not used)
  mkdir -p "$target"
  shopt -s nullglob
  for file in "$work"/keep/*; do
    chmod 600 "$file"  # dpkg-deb kept the package's 0644
    mv -f "$file" "$target/"
  done
  shopt -u nullglob
  echo "$stamp" > "$target/.complete"
  rm -rf "$work"
  trap - EXIT
done
