#!/usr/bin/env bash
# Make sure the C libraries GeoDjango needs are on this machine: GDAL, GEOS, PROJ and the
# SpatiaLite extension for SQLite. Installs them with apt when run as root on Debian/Ubuntu;
# otherwise names the packages to install and fails.
set -euo pipefail

# library (as ldconfig lists it) -> Debian package that brings it. gdal-bin pulls the GDAL,
# GEOS and PROJ runtime libraries under whatever names this release gives them.
declare -A wanted=(
  [libgdal.so]=gdal-bin
  [libgeos_c.so]=gdal-bin
  [libproj.so]=gdal-bin
  [mod_spatialite.so]=libsqlite3-mod-spatialite
)

have_lib() {
  # mod_spatialite is not in the ldconfig cache on every distribution; look on disk too.
  ldconfig -p 2>/dev/null | grep -q "$1" && return 0
  compgen -G "/usr/lib/*/$1*" >/dev/null || compgen -G "/usr/lib/$1*" >/dev/null
}

missing=()
for lib in "${!wanted[@]}"; do
  have_lib "$lib" || missing+=("${wanted[$lib]}")
done
# binutils gives ctypes.util.find_library the tools it uses to find the libraries above.
command -v objdump >/dev/null || missing+=(binutils)
# A TrueType Chinese font: printed O&M records (PDF) embed it (server/om/printing.py, PRINT_CJK_FONT;
# the system check om.E001 fails without it), and the browser tests' screenshots are read with it.
compgen -G "/usr/share/fonts/truetype/wqy/wqy-microhei*" >/dev/null || missing+=(fonts-wqy-microhei)
# Headless Chromium and its driver, for the map page's browser test (tests/maps). Only the tests
# need them: without root they are named, and the test skips outside CI instead of failing set-up.
browser=()
command -v chromium >/dev/null || browser+=(chromium)
command -v chromedriver >/dev/null || browser+=(chromium-driver)
# Node.js runs the JavaScript tests (make test-js: the sync client, tests/js) and the Node phone
# that talks to the real server (tests/field_app); Debian's nodejs, if this machine has none.
command -v node >/dev/null || browser+=(nodejs)
if [ ${#browser[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    missing+=("${browser[@]}")
  else
    echo "The browser and JavaScript tests need: ${browser[*]} (sudo apt-get install ${browser[*]})" >&2
  fi
fi

[ ${#missing[@]} -eq 0 ] && exit 0

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing the system packages Fieldtrace needs: $packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  ldconfig
else
  echo "Fieldtrace needs system packages that are missing (GeoDjango's libraries, the Chinese font): $packages" >&2
  echo "Install them, e.g.: sudo apt-get install $packages" >&2
  exit 1
fi
