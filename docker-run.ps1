<#
.SYNOPSIS
    PayGate container helper for Windows PowerShell / PowerShell 7: a thin
    wrapper around the profiles in compose.yaml (twin of docker-run.sh).

.DESCRIPTION
    dev    Build and run the dev app (hot reload, SQLite) on http://localhost:3001.
           Runs in the foreground; Ctrl-C stops it. Extra arguments go to
           `docker compose up` (e.g. -d to detach).
    prod   Build and start PostgreSQL, Redis and two app replicas behind nginx in
           the background on http://localhost:3001 (each replica directly:
           http://127.0.0.1:3011 and :3012). Needs
           PAYGATE_JWT_SECRET and PAYGATE_STORAGE_SECRET (>= 32 bytes each) in
           the environment or in a .env file next to compose.yaml.
           Optional: POSTGRES_PASSWORD (URL-safe).
    stop   Stop and remove the containers of both profiles; data volumes are kept.
    clean  Remove containers, networks, volumes (ALL DATA: database, SQLite) and
           locally built images. Asks first unless -Yes (or -y) is given.
    help   Show this help.

    If scripts are blocked by the execution policy, run it as
    powershell -ExecutionPolicy Bypass -File .\docker-run.ps1 COMMAND

.EXAMPLE
    $env:PAYGATE_JWT_SECRET = python -c "import secrets; print(secrets.token_urlsafe(48))"
    $env:PAYGATE_STORAGE_SECRET = python -c "import secrets; print(secrets.token_urlsafe(48))"
    .\docker-run.ps1 prod

.EXAMPLE
    .\docker-run.ps1 dev -d

.EXAMPLE
    .\docker-run.ps1 clean -Yes
#>
# Deliberately a simple (not advanced) script: without [CmdletBinding()] there
# are no common parameters, so an argument like -d (not -Debug) is left in
# $args and passed on to `docker compose up`, as in docker-run.sh.
param(
    # dev, prod, stop, clean or help.
    [string]$Command = 'help',

    # clean: delete without asking.
    [Alias('y')]
    [switch]$Yes
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# Extra arguments for `docker compose up` (dev, prod). Captured here because
# inside a function $args means that function's own arguments.
$ComposeArgs = @($args)

# Always work from the repo root, so compose.yaml and .env are found.
Set-Location -LiteralPath $PSScriptRoot

$SecretHint = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
$MinSecretBytes = 32
$SecretNames = @('PAYGATE_JWT_SECRET', 'PAYGATE_STORAGE_SECRET')
$script:Compose = @()

function Show-Usage {
    Get-Help -Name $PSCommandPath -Detailed | Out-Host
}

function Stop-WithError([string]$Message) {
    [Console]::Error.WriteLine("docker-run.ps1: $Message")
    exit 1
}

# Runs a native command silently and tells whether it succeeded. Windows
# PowerShell 5.1 turns redirected stderr into errors, which 'Stop' would make
# fatal, so errors are only 'Continue' in here.
function Test-Native([string]$Exe, [string[]]$Arguments) {
    $ErrorActionPreference = 'Continue'
    try {
        & $Exe @Arguments *> $null
        return ($LASTEXITCODE -eq 0)
    } catch {
        return $false
    }
}

# Runs compose (plugin or standalone) and stops the script if it fails.
function Invoke-Compose([string[]]$Arguments) {
    $exe = $script:Compose[0]
    $rest = @($script:Compose | Select-Object -Skip 1) + $Arguments
    & $exe @rest
    if ($LASTEXITCODE -ne 0) {
        exit $LASTEXITCODE
    }
}

# Find docker and a compose implementation; fail with a clear message if not.
function Assert-Docker {
    if (-not (Get-Command docker -ErrorAction SilentlyContinue)) {
        Stop-WithError 'docker was not found on PATH. Install Docker Desktop: https://docs.docker.com/get-docker/'
    }
    if (Test-Native 'docker' @('compose', 'version')) {
        $script:Compose = @('docker', 'compose')
    } elseif (Get-Command docker-compose -ErrorAction SilentlyContinue) {
        $script:Compose = @('docker-compose')
    } else {
        Stop-WithError "Docker Compose was not found (neither 'docker compose' nor 'docker-compose'). Install the Compose plugin: https://docs.docker.com/compose/install/"
    }
    if (-not (Test-Native 'docker' @('info'))) {
        Stop-WithError 'cannot reach the Docker engine. Is Docker Desktop running?'
    }
}

# Where a secret is set: 'env', 'dotenv' (assigned in .\.env, which compose
# reads; the app itself checks values from there), or $null if unset.
function Get-SecretOrigin([string]$Name) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if (-not [string]::IsNullOrEmpty($value)) {
        return 'env'
    }
    if (Test-Path -LiteralPath '.env' -PathType Leaf) {
        $pattern = '^\s*(export\s+)?' + [regex]::Escape($Name) + '\s*=\s*[^\s#]'
        if (Select-String -LiteralPath '.env' -Pattern $pattern -Quiet) {
            return 'dotenv'
        }
    }
    return $null
}

function Assert-ProdSecrets {
    $problems = @()
    foreach ($name in $SecretNames) {
        $origin = Get-SecretOrigin $name
        if (-not $origin) {
            $problems += "$name is not set."
        } elseif ($origin -eq 'env') {
            $bytes = [Text.Encoding]::UTF8.GetByteCount([Environment]::GetEnvironmentVariable($name))
            if ($bytes -lt $MinSecretBytes) {
                $problems += "$name is shorter than $MinSecretBytes bytes."
            }
        }
    }
    if ($problems.Count -gt 0) {
        foreach ($problem in $problems) {
            [Console]::Error.WriteLine("docker-run.ps1: $problem")
        }
        [Console]::Error.WriteLine(@"

The prod profile refuses to start without strong secrets. Generate each with
  $SecretHint
and set it, e.g. `$env:PAYGATE_JWT_SECRET = <value> (or put NAME=value lines
in a .env file next to compose.yaml; keep that file out of git). Every replica
must get the same values.
"@)
        exit 1
    }
}

function Invoke-Dev {
    Assert-Docker
    Write-Host 'Starting PayGate (dev) on http://localhost:3001 ...'
    Invoke-Compose (@('--profile', 'dev', 'up', '--build') + $ComposeArgs)
}

function Invoke-Prod {
    Assert-ProdSecrets
    Assert-Docker
    Invoke-Compose (@('--profile', 'prod', 'up', '--build', '--detach') + $ComposeArgs)
    Invoke-Compose @('--profile', 'prod', 'ps')
    $composeText = $script:Compose -join ' '
    Write-Host @"

PayGate (prod) is starting on http://localhost:3001 (replicas: http://127.0.0.1:3011, :3012).
Follow the logs with:  $composeText --profile prod logs -f
Stop with:             .\docker-run.ps1 stop
"@
}

function Invoke-Stop {
    Assert-Docker
    Invoke-Compose @('--profile', 'dev', '--profile', 'prod', 'down', '--remove-orphans')
}

function Invoke-Clean {
    # Accept the bash spellings too: PowerShell leaves --yes in $args.
    $assumeYes = [bool]$Yes
    foreach ($arg in $ComposeArgs) {
        if ($arg -in @('-y', '--yes')) {
            $assumeYes = $true
        } else {
            Stop-WithError "clean: unknown option '$arg' (only -Yes / -y)"
        }
    }
    Assert-Docker
    if (-not $assumeYes) {
        $answer = Read-Host 'Delete PayGate containers, volumes (ALL DATA) and local images? [y/N]'
        if ($answer -notmatch '^(y|yes)$') {
            Write-Host 'Aborted; nothing removed.'
            exit 1
        }
    }
    Invoke-Compose @('--profile', 'dev', '--profile', 'prod', 'down', '--volumes', '--remove-orphans', '--rmi', 'local')
}

switch ($Command) {
    'dev'   { Invoke-Dev }
    'prod'  { Invoke-Prod }
    'stop'  { Invoke-Stop }
    'clean' { Invoke-Clean }
    'help'  { Show-Usage }
    default {
        Show-Usage
        Stop-WithError "unknown command '$Command' (dev, prod, stop, clean or help)"
    }
}
