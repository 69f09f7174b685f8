# fleetpoll's bootstrap for Windows hosts reached over SSH. The SSH transport sends it
# as -EncodedCommand, a fixed base64 string that cmd.exe and PowerShell (either can be
# the OpenSSH default shell) pass through untouched. It reads the probe that fleetpoll
# streams on stdin, runs it, and writes the probe's text as UTF-8 bytes whatever the
# console code page. Nothing from servers.csv is ever part of it.
# Comment lines are dropped before encoding, to keep the command line short.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try {
    $probe = ($input | ForEach-Object { [string]$_ }) -join "`n"
    $text = (& ([scriptblock]::Create($probe)) | ForEach-Object { [string]$_ }) -join ''
    $bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($text)
    $stdout = [Console]::OpenStandardOutput()
    $stdout.Write($bytes, 0, $bytes.Length)
    $stdout.Flush()
}
catch {
    [Console]::Error.WriteLine('fleetpoll probe failed: ' + $_.Exception.Message)
    exit 1
}
