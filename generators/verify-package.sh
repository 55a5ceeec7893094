#!/usr/bin/env bash
# Packs Sanctuary.Core with a unique version and builds a fresh console project against that
# package, restored from a local folder plus the machine's usual sources. Then it runs the project:
# the generator inside the package must have written the [Sanctuary] method, and the method must
# hold its resources while its body runs. All work happens in a temporary folder, removed at the end.
#
# Usage: generators/verify-package.sh   (from anywhere; exits non-zero on any failure)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

# A unique version: a consumer silently reuses a cached package of the same version.
version="0.1.0-verify.$(date +%Y%m%d%H%M%S).$$"
feed="$work/feed"
app="$work/app"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "Packing Sanctuary.Core $version"
dotnet pack "$repo/src/Sanctuary.Core" -c Release -o "$feed" -p:Version="$version" --nologo -v quiet

package="$feed/Sanctuary.Core.$version.nupkg"
python3 - "$package" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
expected = "analyzers/dotnet/cs/Sanctuary.Generators.dll"
if expected not in names:
    sys.exit(f"{sys.argv[1]} has no {expected}; it has: {sorted(names)}")
nuspec = zipfile.ZipFile(sys.argv[1]).read([n for n in names if n.endswith(".nuspec")][0]).decode()
if "Sanctuary.Generators" in nuspec:
    sys.exit("The package declares a dependency on Sanctuary.Generators; the generator must ship inside it.")
print(f"The package holds {expected}.")
PY

echo "Creating a console project that uses the package"
mkdir -p "$app"
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="sanctuary-verify" value="$feed" />
  </packageSources>
</configuration>
XML

cat > "$app/PackageCheck.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>disable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Sanctuary.Core" Version="$version" />
  </ItemGroup>
</Project>
XML

# Keep the repository's build settings out of the temporary project.
echo '<Project />' > "$app/Directory.Build.props"
echo '<Project />' > "$app/Directory.Packages.props"

cat > "$app/Program.cs" <<'CS'
using System;
using System.Threading.Tasks;
using Sanctuary;
using Sanctuary.Resources;

namespace PackageCheck;

public static partial class Program
{
    public static async Task<int> Main()
    {
        int balance = await PostAsync(5);
        bool freeAfter = ResourceRegistry.Shared.TryAcquire("ledger", out ResourceLease lease);
        lease.Dispose();
        Console.WriteLine($"generated: balance={balance}, held inside={s_heldInside}, rates shared inside={s_ratesShared}, free after={freeAfter}");
        return balance == 5 && s_heldInside && s_ratesShared && freeAfter ? 0 : 1;
    }

    private static bool s_heldInside;
    private static bool s_ratesShared;

    [Sanctuary("ledger", "audit", Read = ["rates"])]
    private static partial Task<int> PostAsync(int amount);

    private static Task<int> PostAsyncCore(int amount)
    {
        // Inside the body the generated code holds "ledger" and "audit" exclusively and "rates" for reading.
        s_heldInside = !ResourceRegistry.Shared.TryAcquire("ledger", out ResourceLease probe);
        probe.Dispose();
        bool readable = ResourceRegistry.Shared.TryAcquire("rates", out ResourceLease reader, new LeaseOptions { Mode = LeaseMode.Read });
        reader.Dispose();
        bool writable = ResourceRegistry.Shared.TryAcquire("rates", out ResourceLease writer, new LeaseOptions { Mode = LeaseMode.Write });
        writer.Dispose();
        s_ratesShared = readable && !writable;
        return Task.FromResult(amount);
    }
}
CS

echo "Building and running it"
# A private packages folder: the consumer restores the package fresh and leaves no copy behind.
export NUGET_PACKAGES="$work/packages"
dotnet build "$app" -c Release --nologo -v quiet
dotnet run --project "$app" -c Release --no-build

echo "verify-package: passed in $(( $(date +%s) - started )) s"
