#!/usr/bin/env bash
# Builds pwsh-sma (see Program.cs) into node_modules/.cache/fleetpoll-pwsh-sma/bin unless the
# build there is from the same sources. Needs the .NET SDK and the NuGet feed; prints the path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cache="$root/node_modules/.cache/fleetpoll-pwsh-sma"
stamp="$(cat "$here/pwsh-sma.csproj" "$here/Program.cs" | sha256sum | cut -c1-16)"
if [ -x "$cache/bin/pwsh-sma" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$cache/bin/pwsh-sma"
  exit 0
fi
command -v dotnet >/dev/null || { echo "pwsh-sma: the .NET SDK (dotnet) is not installed" >&2; exit 3; }
rm -rf "$cache"
mkdir -p "$cache"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build "$here/pwsh-sma.csproj" -c Release --nologo -v quiet \
  --artifacts-path "$cache/artifacts" -o "$cache/bin" >"$cache/build.log" 2>&1 || {
  cat "$cache/build.log" >&2
  exit 1
}
# sshd starts the remoting subsystem as another user: it must be able to run this.
chmod -R a+rX "$cache"
echo "$stamp" >"$cache/stamp"
echo "$cache/bin/pwsh-sma"
