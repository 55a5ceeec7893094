#!/usr/bin/env bash
# Packs Sanctuary.Core and builds a fresh console project that references the package from a local
# folder source. The check passes when an analyzer from inside the package reports SNC2001 on a
# discarded acquire and reports nothing on the correct code next to it.
#
# Usage: analyzers/verify-package.sh [output-folder]   (default: a new temporary folder)
# Exit code 0 when the rule fires as expected; non-zero otherwise, with the build output printed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
packages="$work/packages"
consumer="$work/consumer"
mkdir -p "$packages" "$consumer"

# A version of its own, so that no cached copy of an earlier pack is restored instead.
version="0.0.0-verify.$(date +%s)"
echo "Packing Sanctuary.Core $version into $packages"
dotnet pack "$root/src/Sanctuary.Core" -c Release -o "$packages" -p:Version="$version" --nologo -v quiet

if ! unzip -l "$packages/Sanctuary.Core.$version.nupkg" | grep -q "analyzers/dotnet/cs/Sanctuary.Analyzers.dll"; then
  echo "FAIL: the package has no analyzers/dotnet/cs/Sanctuary.Analyzers.dll" >&2
  exit 1
fi

# The local folder is added to the sources that the user's NuGet configuration already lists.
cat > "$consumer/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="sanctuary-local" value="$packages" />
  </packageSources>
</configuration>
XML

cat > "$consumer/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Sanctuary.Core" Version="$version" />
  </ItemGroup>
</Project>
XML

# Directory.Build.props and Directory.Packages.props of this repository must not apply here.
cat > "$consumer/Directory.Build.props" <<XML
<Project />
XML

cat > "$consumer/Program.cs" <<'CS'
using System.Threading.Tasks;
using Sanctuary;

internal static class Program
{
    private static async Task Main()
    {
        using var gate = new AsyncLock();

        // Correct: awaited and released by the using declaration.
        using (await gate.AcquireAsync())
        {
        }

        // SNC2001: the acquire is never awaited.
        gate.AcquireAsync();
    }
}
CS

echo "Building the consumer in $consumer"
set +e
output=$(cd "$consumer" && NUGET_PACKAGES="$work/nuget-cache" dotnet build --nologo 2>&1)
set -e

snc=$(printf '%s\n' "$output" | grep -o 'warning SNC[0-9]*' | sort -u || true)
if [ "$snc" != "warning SNC2001" ]; then
  printf '%s\n' "$output"
  echo "FAIL: expected exactly one rule, SNC2001, to fire; found: ${snc:-none}" >&2
  exit 1
fi

printf '%s\n' "$output" | grep 'warning SNC2001' | sort -u
echo "OK: SNC2001 fired from the packed analyzers in Sanctuary.Core $version"
