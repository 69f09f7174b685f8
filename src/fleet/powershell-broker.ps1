# fleetpoll's PowerShell remoting broker. powershell.ts starts one PowerShell process
# per poll cycle with node-powershell, loads this file into it once, then drives it with
# one-line commands. Each host is one Invoke-Command -AsJob, so hosts run concurrently
# in this one process and a slow host never holds up a command.
#
# Every argument arrives base64-encoded and is decoded as data: nothing typed in
# servers.csv is ever parsed as PowerShell. The probe reaches the hosts as an argument
# of a fixed script block, never as text assembled from inventory fields.
#
# Answers are base64 as well: Windows PowerShell writes stdout in the console's OEM code
# page, which would mangle anything but ASCII.
#
# Runs on Windows PowerShell 5.1 and PowerShell 7, using only the engine's core cmdlets.
#
#   Set-FpProbe <b64 probe>              -> ok
#   Start-FpHost <id> <b64 spec>         -> ok | error <b64 failure fields, as below>
#   Stop-FpHost <id>                     -> ok
#   Receive-FpDone <waitMs> <maxChars>   -> one line per host that finished:
#       <id> TAB ok TAB <b64 output>
#       <id> TAB overflow TAB -
#       <id> TAB failed TAB <b64 of: exception type, error code, error id, message (one per line)>

$global:FpProbe = ''
$global:FpJobs = @{}
$global:FpStopping = [System.Collections.Generic.List[object]]::new()
# What runs on the host: the probe, which arrives as the first argument.
$global:FpRunner = { param([string]$Probe) & ([scriptblock]::Create($Probe)) }

function global:ConvertFrom-FpBase64([string]$Text) {
    return [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($Text))
}

function global:ConvertTo-FpBase64([string]$Text) {
    return [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($Text))
}

function global:Set-FpProbe([string]$Probe) {
    $global:FpProbe = ConvertFrom-FpBase64 $Probe
    return 'ok'
}

# The spec is key=value lines: mode (wsman or ssh), address, port, user, ssl, authentication,
# passwordEnv (the NAME of the variable holding the password), timeoutMs; for ssh, keyFile and knownHosts.
function global:Start-FpHost([string]$Id, [string]$Spec) {
    try {
        $s = @{}
        foreach ($line in ((ConvertFrom-FpBase64 $Spec) -split "`n")) {
            $at = $line.IndexOf('=')
            if ($at -gt 0) { $s[$line.Substring(0, $at)] = $line.Substring($at + 1) }
        }
        $p = @{
            ScriptBlock  = $global:FpRunner
            ArgumentList = @($global:FpProbe)
            AsJob        = $true
            JobName      = 'fleetpoll-' + $Id
        }
        $timeoutMs = [Math]::Max([int]$s['timeoutMs'], 1000)
        if ($s['mode'] -eq 'ssh') {
            # PowerShell remoting over SSH: the same remoting layer (PSRP) as WinRM.
            $p.HostName = $s['address']
            $p.Port = [int]$s['port']
            $p.UserName = $s['user']
            if ($s['keyFile'] -ne '') { $p.KeyFilePath = $s['keyFile'] }
            $p.Options = @{
                UserKnownHostsFile    = $s['knownHosts']
                StrictHostKeyChecking = 'yes'
                BatchMode             = 'yes'
                ConnectTimeout        = [string][Math]::Ceiling($timeoutMs / 1000)
            }
        }
        else {
            $p.ComputerName = $s['address']
            $p.Port = [int]$s['port']
            if ($s['ssl'] -eq 'yes') { $p.UseSSL = $true }
            $p.Authentication = $s['authentication']
            # WinRM's own timeouts, so an abandoned connection does not linger past the deadline.
            # Built directly: New-PSSessionOption offers these parameters on Windows only.
            $option = [System.Management.Automation.Remoting.PSSessionOption]::new()
            $option.OpenTimeout = [TimeSpan]::FromMilliseconds($timeoutMs)
            $option.OperationTimeout = [TimeSpan]::FromMilliseconds($timeoutMs)
            $option.CancelTimeout = [TimeSpan]::FromMilliseconds(5000)
            $option.NoMachineProfile = $true
            $p.SessionOption = $option
            if ($s['passwordEnv'] -ne '') {
                $password = [System.Environment]::GetEnvironmentVariable($s['passwordEnv'])
                if ($null -eq $password) { return 'error ' + (ConvertTo-FpFailure ([System.Exception]::new('environment variable ' + $s['passwordEnv'] + ' is not set')) $null) }
                $secure = [System.Security.SecureString]::new()
                foreach ($c in $password.ToCharArray()) { $secure.AppendChar($c) }
                $p.Credential = [System.Management.Automation.PSCredential]::new($s['user'], $secure)
            }
        }
        $global:FpJobs[$Id] = Invoke-Command @p
        return 'ok'
    }
    catch {
        # On Linux, -ComputerName fails here at once: no WSMan client library.
        return 'error ' + (ConvertTo-FpFailure $_.Exception $_)
    }
}

# Exception type, error code, error id and message, one per line, base64.
function global:ConvertTo-FpFailure($Exception, $Record) {
    $code = ''
    if ($null -ne $Exception.PSObject.Properties['ErrorCode']) { $code = [string]$Exception.ErrorCode }
    $errorId = ''
    if ($null -ne $Record) { $errorId = [string]$Record.FullyQualifiedErrorId }
    $fields = @($Exception.GetType().FullName, $code, $errorId, ($Exception.Message -replace '[\r\n]+', ' ')) -join "`n"
    return ConvertTo-FpBase64 $fields
}

# Stop-Job can wait a long time on an unresponsive host, so it runs on another thread
# and this process keeps answering; the job is removed once it has stopped.
function global:Stop-FpHost([string]$Id) {
    $job = $global:FpJobs[$Id]
    if ($null -eq $job) { return 'ok' }
    $global:FpJobs.Remove($Id)
    $stopper = [powershell]::Create()
    [void]$stopper.AddCommand('Stop-Job').AddParameter('Job', $job)
    $global:FpStopping.Add(@{ PowerShell = $stopper; Handle = $stopper.BeginInvoke(); Job = $job })
    return 'ok'
}

function global:Clear-FpStopping {
    foreach ($entry in @($global:FpStopping)) {
        if (-not $entry.Handle.IsCompleted) { continue }
        try { [void]$entry.PowerShell.EndInvoke($entry.Handle) } catch { }
        $entry.PowerShell.Dispose()
        try { Remove-Job -Job $entry.Job -Force -ErrorAction SilentlyContinue } catch { }
        [void]$global:FpStopping.Remove($entry)
    }
}

function global:Format-FpResult([string]$Id, $Job, [long]$MaxChars) {
    $remoteErrors = $null
    $output = @()
    try { $output = @(Receive-Job -Job $Job -ErrorAction SilentlyContinue -ErrorVariable remoteErrors) } catch { }
    # Completed means the probe ran to its end; what it printed is for the parser to judge.
    if ([string]$Job.State -eq 'Completed') {
        $text = ($output | ForEach-Object { [string]$_ }) -join ''
        if ($text.Length -gt $MaxChars) { return $Id + "`toverflow`t-" }
        return $Id + "`tok`t" + (ConvertTo-FpBase64 $text)
    }
    # The most specific reason: the child job's (one per host), then the job's, then the first error.
    $reason = $null
    foreach ($child in @($Job.ChildJobs)) {
        if ($null -ne $child.JobStateInfo.Reason) { $reason = $child.JobStateInfo.Reason; break }
    }
    if ($null -eq $reason) { $reason = $Job.JobStateInfo.Reason }
    $record = $null
    if ($null -ne $remoteErrors -and $remoteErrors.Count -gt 0) { $record = $remoteErrors[0] }
    if ($null -eq $reason -and $null -ne $record) { $reason = $record.Exception }
    if ($null -eq $reason) { $reason = [System.Exception]::new('the job ended ' + [string]$Job.State + ' without output') }
    return $Id + "`tfailed`t" + (ConvertTo-FpFailure $reason $record)
}

# Waits up to $WaitMs for at least one host to finish and reports every finished one.
function global:Receive-FpDone([int]$WaitMs, [long]$MaxChars) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $lines = [System.Collections.Generic.List[string]]::new()
    $finished = @('Completed', 'Failed', 'Stopped', 'Blocked', 'Disconnected')
    while ($true) {
        foreach ($id in @($global:FpJobs.Keys)) {
            $job = $global:FpJobs[$id]
            if ($finished -notcontains [string]$job.State) { continue }
            $global:FpJobs.Remove($id)
            $lines.Add((Format-FpResult $id $job $MaxChars))
            try { Remove-Job -Job $job -Force -ErrorAction SilentlyContinue } catch { }
        }
        if ($lines.Count -gt 0 -or $clock.ElapsedMilliseconds -ge $WaitMs) { break }
        [System.Threading.Thread]::Sleep(20)
    }
    Clear-FpStopping
    return ($lines -join "`n")
}

$ProgressPreference = 'SilentlyContinue'
'fleetpoll-broker 1 ' + $PSVersionTable.PSVersion.ToString()
