#!/usr/bin/env bash
# Unpack the SCAP Security Guide content of newer Debian suites into DEST/debian-<suite>/,
# without installing anything system-wide: bookworm's ssg-* (0.1.65) lacks Ubuntu 24.04,
# Debian 12 and AlmaLinux 9. The mirror is the one this machine's apt sources already use.
# Usage: fetch-debian-ssg.sh DEST [SUITE...]   (default suites: trixie sid). Idempotent.
set -euo pipefail

dest=${1:?usage: fetch-debian-ssg.sh DEST [SUITE...]}
shift
suites=("$@")
[ $# -gt 0 ] || suites=(trixie sid)
packages=(ssg-debian ssg-debderived ssg-nondebian)

# The first Debian archive URI in the apt sources (deb822 or one-line format), not -security.
mirror=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
      /^URIs:/ { uri=$2 } /^Suites:/ { if ($0 !~ /security/ && uri != "") { print uri; exit } }'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
  } | grep -v -i ubuntu | head -n 1 || true
)
if [ -z "$mirror" ]; then
  echo "fetch-debian-ssg: no Debian mirror in the apt sources; newer SSG content not fetched" >&2
  exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

for suite in "${suites[@]}"; do
  target="$dest/debian-$suite"
  if [ -f "$target/.complete" ]; then
    continue
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/debs"
  echo "deb [signed-by=$keyring] $mirror $suite main" > "$work/sources.list"
  apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
               -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -q)
  echo "fetching ${packages[*]} from Debian $suite"
  apt-get "${apt_options[@]}" update 2>&1 | grep -v 'unsandboxed' >&2 || true
  (cd "$work/debs" && apt-get "${apt_options[@]}" download "${packages[@]}" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  ls "$work"/debs/*.deb >/dev/null
  rm -rf "$target"
  mkdir -p "$target"
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$target"
  done
  # keep only the datastreams of the catalog's products (scap_content/catalog.toml)
  mkdir -p "$work/keep"
  find "$target" -type f -regextype egrep \
    -regex '.*/ssg-(ubuntu[0-9]+|debian[0-9]+|almalinux[0-9]+|rhel[89]|ol[89]|al2023)-ds\.xml' \
    -exec mv -t "$work/keep" {} +
  rm -rf "$target"
  mv "$work/keep" "$target"
  touch "$target/.complete"
  rm -rf "$work"
  trap - EXIT
done
