# fleetpoll Windows probe, protocol v1 (shared/design.md). Runs unchanged on Windows
# PowerShell 5.1 and PowerShell 7 with nothing to install. fleetpoll sends it as data:
# over SSH on stdin to a fixed bootstrap, over WinRM as an argument of a fixed script
# block. It writes no files and starts no process other than quser.exe.
#
# Tunables, assigned by the poller in lines prepended to this script:
#   $FP_WINDOW   CPU sample window in seconds (default 1, may be fractional)
#   $FP_TOPN     processes listed by CPU and by working set (default 10)
#
# Collecting (Get-FpReadings, Get-FpOwners: CIM, raw performance counters, quser) and
# formatting (Format-FpProbe: readings -> protocol text) are separate functions, so the
# formatting runs anywhere PowerShell runs, on recorded Windows data: with $FP_LIBRARY
# set, the script only defines its functions. Formatting uses nothing but the language,
# .NET and the engine's core cmdlets.
#
# The result is one string, the whole protocol text; the caller writes it out.
# Keep this file ASCII: Windows PowerShell reads stdin in the console's OEM code page.

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# A property of a CIM instance or recorded object, or $null when it has none.
function Get-FpValue($Object, [string]$Name) {
    if ($null -eq $Object) { return $null }
    if ($Object -is [System.Collections.IDictionary]) { return $Object[$Name] }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

# Text for one protocol field: no control characters (tabs and newlines would break
# records), at most 255 characters.
function ConvertTo-FpField($Value) {
    if ($null -eq $Value) { return '' }
    $text = ([string]$Value) -replace '[\x00-\x1f\x7f]', '?'
    if ($text.Length -gt 255) { $text = $text.Substring(0, 255) }
    return $text
}

# Numbers in the protocol never follow the host's locale (a German server writes 1,5).
function Format-FpNumber([double]$Value, [int]$Decimals) {
    if ([double]::IsNaN($Value) -or [double]::IsInfinity($Value) -or $Value -lt 0) { $Value = 0 }
    if ($Decimals -eq 0) { return ([Math]::Round($Value)).ToString('0', [System.Globalization.CultureInfo]::InvariantCulture) }
    return $Value.ToString('0.' + ('0' * $Decimals), [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertTo-FpDouble($Value) {
    if ($null -eq $Value -or ([string]$Value) -eq '') { return [double]0 }
    return [double]::Parse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture)
}

# Host CPU busy % from two readings of Win32_PerfRawData_PerfOS_Processor. The counter
# is PERF_100NSEC_TIMER_INV: it counts idle time in 100 ns units, so busy is
# 1 - delta(idle) / delta(Timestamp_Sys100NS). Computed from the per-processor
# instances, which does not depend on how the _Total instance is aggregated.
function Measure-FpCpu($First, $Second) {
    $before = @{}
    foreach ($p in @($First)) { $before[[string]$p.Name] = $p }
    $idle = [double]0
    $span = [double]0
    $count = 0
    $total = $null
    foreach ($p in @($Second)) {
        $name = [string]$p.Name
        if ($name -eq '_Total') { $total = $p; continue }
        if (-not $before.ContainsKey($name)) { continue }
        $b = $before[$name]
        $dTime = (ConvertTo-FpDouble $p.Timestamp_Sys100NS) - (ConvertTo-FpDouble $b.Timestamp_Sys100NS)
        $dIdle = (ConvertTo-FpDouble $p.PercentProcessorTime) - (ConvertTo-FpDouble $b.PercentProcessorTime)
        if ($dTime -le 0) { continue }
        $idle += [Math]::Min([Math]::Max($dIdle, 0), $dTime)
        $span += $dTime
        $count += 1
    }
    if ($count -eq 0 -and $null -ne $total -and $before.ContainsKey('_Total')) {
        $b = $before['_Total']
        $span = (ConvertTo-FpDouble $total.Timestamp_Sys100NS) - (ConvertTo-FpDouble $b.Timestamp_Sys100NS)
        $idle = [Math]::Min([Math]::Max((ConvertTo-FpDouble $total.PercentProcessorTime) - (ConvertTo-FpDouble $b.PercentProcessorTime), 0), [Math]::Max($span, 0))
    }
    $busy = [double]0
    if ($span -gt 0) { $busy = 100 * (1 - $idle / $span) }
    return @{ Processors = $count; BusyPct = [Math]::Min([Math]::Max($busy, 0), 100) }
}

# Per-process CPU (% of one core, as Task Manager's details and top show it) and working
# set from two readings of Win32_PerfRawData_PerfProc_Process. PercentProcessorTime is
# PERF_100NSEC_TIMER: CPU time in 100 ns units. A process absent from the first reading
# started inside the window, so all of its CPU time is new; one absent from the second
# has exited and is not listed.
function Measure-FpProcesses($First, $Second) {
    $before = @{}
    foreach ($p in @($First)) {
        $id = [long](ConvertTo-FpDouble $p.IDProcess)
        if ($id -gt 0) { $before[$id] = $p }
    }
    $window = [double]0
    $firstStamp = $null
    foreach ($p in @($First)) { $firstStamp = ConvertTo-FpDouble $p.Timestamp_Sys100NS; break }
    foreach ($p in @($Second)) {
        if ($null -ne $firstStamp) { $window = (ConvertTo-FpDouble $p.Timestamp_Sys100NS) - $firstStamp }
        break
    }
    $result = [System.Collections.Generic.List[object]]::new()
    foreach ($p in @($Second)) {
        $id = [long](ConvertTo-FpDouble $p.IDProcess)
        $instance = [string]$p.Name
        # Idle (pid 0) counts idle time, _Total the sum of all: neither is a process.
        if ($id -le 0 -or $instance -eq '_Total' -or $instance -eq 'Idle') { continue }
        $cpu = ConvertTo-FpDouble $p.PercentProcessorTime
        if ($before.ContainsKey($id)) {
            $old = ConvertTo-FpDouble $before[$id].PercentProcessorTime
            if ($old -le $cpu) { $cpu = $cpu - $old }
        }
        $pct = [double]0
        if ($window -gt 0) { $pct = 100 * $cpu / $window }
        # Instances of one image are named svchost, svchost#1, ...: the name is the part before '#'.
        $name = $instance -replace '#\d+$', ''
        $result.Add(@{ Pid = $id; Name = $name; CpuPct = $pct; RssKb = (ConvertTo-FpDouble $p.WorkingSet) / 1024 })
    }
    return , $result
}

# The processes to list: the top N by CPU, then the top N by working set not listed yet.
function Select-FpTop($Processes, [int]$TopN) {
    $byCpu = [System.Collections.Generic.List[object]]::new()
    $byMem = [System.Collections.Generic.List[object]]::new()
    foreach ($p in $Processes) { $byCpu.Add($p); $byMem.Add($p) }
    $byCpu.Sort([System.Comparison[object]] {
            param($a, $b)
            if ($a.CpuPct -ne $b.CpuPct) { return $b.CpuPct.CompareTo($a.CpuPct) }
            if ($a.RssKb -ne $b.RssKb) { return $b.RssKb.CompareTo($a.RssKb) }
            return $a.Pid.CompareTo($b.Pid)
        })
    $byMem.Sort([System.Comparison[object]] {
            param($a, $b)
            if ($a.RssKb -ne $b.RssKb) { return $b.RssKb.CompareTo($a.RssKb) }
            if ($a.CpuPct -ne $b.CpuPct) { return $b.CpuPct.CompareTo($a.CpuPct) }
            return $a.Pid.CompareTo($b.Pid)
        })
    $chosen = [System.Collections.Generic.List[object]]::new()
    $seen = @{}
    foreach ($list in @($byCpu, $byMem)) {
        $n = 0
        foreach ($p in $list) {
            if ($n -ge $TopN) { break }
            $n += 1
            if (-not $seen.ContainsKey($p.Pid)) { $seen[$p.Pid] = $true; $chosen.Add($p) }
        }
    }
    return , $chosen
}

# Sessions from quser.exe text. The header and state words are localised, so only the
# layout is relied on: a '>' or space, the user name, the session name (empty for a
# disconnected session), the numeric ID, then the state.
function ConvertFrom-FpQuser([string[]]$Lines) {
    $sessions = [System.Collections.Generic.List[object]]::new()
    $first = $true
    foreach ($line in $Lines) {
        if ($first) { $first = $false; continue }
        if ($null -eq $line -or $line.Trim() -eq '') { continue }
        $tokens = @($line.Substring(1).Trim() -split '\s+')
        if ($tokens.Count -lt 3) { continue }
        $idAt = -1
        for ($i = 1; $i -le 2 -and $i -lt $tokens.Count - 1; $i++) {
            if ($tokens[$i] -match '^\d+$') { $idAt = $i; break }
        }
        if ($idAt -lt 0) { continue }
        $sessionName = ''
        if ($idAt -eq 2) { $sessionName = $tokens[1] }
        $sessions.Add(@{ User = $tokens[0]; SessionName = $sessionName; Id = [long]$tokens[$idAt]; State = $tokens[$idAt + 1] })
    }
    return , $sessions
}

# DOMAIN\user from a Win32_Process GetOwner() result, or $null when it was refused.
function Get-FpOwnerName($Owner) {
    if ($null -eq $Owner) { return $null }
    if ((ConvertTo-FpDouble (Get-FpValue $Owner 'ReturnValue')) -ne 0) { return $null }
    $user = [string](Get-FpValue $Owner 'User')
    if ($user -eq '') { return $null }
    $domain = [string](Get-FpValue $Owner 'Domain')
    if ($domain -eq '') { return $user }
    return $domain + '\' + $user
}

# Readings -> protocol v1 text. Pure: no CIM, no clock, no host access.
function Format-FpProbe($Readings, [int]$TopN) {
    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add("fleetpoll-probe`t1")
    $os = $Readings.OperatingSystem
    $cs = $Readings.ComputerSystem

    $hostName = [string](Get-FpValue $cs 'DNSHostName')
    if ($hostName -eq '') { $hostName = [string](Get-FpValue $cs 'Name') }
    if ($hostName -eq '') { $hostName = [string](Get-FpValue $os 'CSName') }
    $out.Add("host`t" + (ConvertTo-FpField $hostName))

    $version = [string](Get-FpValue $os 'Version')
    if ($null -ne $Readings.BuildRevision -and $version -ne '') { $version = $version + '.' + [string]$Readings.BuildRevision }
    $out.Add("os`twindows`t" + (ConvertTo-FpField $version) + "`t" + (ConvertTo-FpField ([string](Get-FpValue $os 'Caption')).Trim()))

    # Both times come from the same instance, in the host's own time zone.
    $uptime = ([datetime]$os.LocalDateTime - [datetime]$os.LastBootUpTime).TotalSeconds
    $out.Add("uptime`t" + (Format-FpNumber $uptime 0))

    $cpu = Measure-FpCpu $Readings.Processor1 $Readings.Processor2
    $cores = [int](ConvertTo-FpDouble (Get-FpValue $cs 'NumberOfLogicalProcessors'))
    if ($cores -lt 1) { $cores = $cpu.Processors }
    if ($cores -lt 1) { $cores = 1 }
    $out.Add("cpu`t" + $cores + "`t" + (Format-FpNumber $cpu.BusyPct 1))

    # FreePhysicalMemory is Windows' "available" (free, zeroed and standby pages).
    # Page files stand in for swap: sizes in MB.
    $memTotal = ConvertTo-FpDouble $os.TotalVisibleMemorySize
    $memAvail = [Math]::Min((ConvertTo-FpDouble $os.FreePhysicalMemory), $memTotal)
    $swapTotal = [double]0
    $swapUsed = [double]0
    foreach ($pf in @($Readings.PageFiles)) {
        if ($null -eq $pf) { continue }
        $swapTotal += 1024 * (ConvertTo-FpDouble $pf.AllocatedBaseSize)
        $swapUsed += 1024 * (ConvertTo-FpDouble $pf.CurrentUsage)
    }
    $swapFree = [Math]::Max($swapTotal - $swapUsed, 0)
    $out.Add("mem`t" + (Format-FpNumber $memTotal 0) + "`t" + (Format-FpNumber $memAvail 0) + "`t" + (Format-FpNumber $memAvail 0) + "`t" + (Format-FpNumber $swapTotal 0) + "`t" + (Format-FpNumber $swapFree 0))

    # Fixed volumes with a drive letter or a mount-point folder; volumes reachable only
    # as \\?\Volume{...} (recovery, system reserved) are not filesystems anyone fills.
    foreach ($v in @($Readings.Volumes)) {
        if ($null -eq $v) { continue }
        $capacity = ConvertTo-FpDouble (Get-FpValue $v 'Capacity')
        $fs = [string](Get-FpValue $v 'FileSystem')
        if ($capacity -le 0 -or $fs -eq '') { continue }
        $mount = [string](Get-FpValue $v 'DriveLetter')
        if ($mount -eq '') {
            $mount = [string](Get-FpValue $v 'Name')
            if ($mount -eq '' -or $mount.StartsWith('\\?\')) { continue }
            if ($mount.Length -gt 3 -and $mount.EndsWith('\')) { $mount = $mount.Substring(0, $mount.Length - 1) }
        }
        $free = [Math]::Min((ConvertTo-FpDouble (Get-FpValue $v 'FreeSpace')), $capacity)
        $out.Add("disk`t" + (ConvertTo-FpField $mount) + "`t" + (ConvertTo-FpField $fs) + "`t" + (Format-FpNumber ($capacity / 1024) 0) + "`t" + (Format-FpNumber (($capacity - $free) / 1024) 0) + "`t" + (Format-FpNumber ($free / 1024) 0))
    }

    $quserSessions = [System.Collections.Generic.List[object]]::new()
    if ($null -ne $Readings.Quser) { $quserSessions = ConvertFrom-FpQuser @($Readings.Quser) }

    $owners = @{}
    if ($null -ne $Readings.Owners) { $owners = $Readings.Owners }
    $processes = Measure-FpProcesses $Readings.Process1 $Readings.Process2
    $top = Select-FpTop $processes $TopN
    $ownerOf = @{}
    foreach ($p in $top) {
        $name = $null
        if ($owners.ContainsKey($p.Pid)) { $name = Get-FpOwnerName $owners[$p.Pid] }
        # The System process (pid 4) has no token to ask; it is the kernel's.
        if ($null -eq $name -and $p.Pid -eq 4) { $name = 'NT AUTHORITY\SYSTEM' }
        if ($null -eq $name) { $name = '?' }
        $ownerOf[$p.Pid] = $name
        $out.Add("proc`t" + $p.Pid + "`t" + (ConvertTo-FpField $name) + "`t" + (Format-FpNumber $p.CpuPct 1) + "`t" + (Format-FpNumber $p.RssKb 0) + "`t" + (ConvertTo-FpField $p.Name))
    }

    # Per-user totals by logon session: looking up the owner of every process is too slow
    # on a busy server, and a session belongs to one user. Session 0 holds the services.
    $sessionOf = @{}
    foreach ($s in @($Readings.ProcessSessions)) {
        if ($null -eq $s) { continue }
        $sessionOf[[long](ConvertTo-FpDouble (Get-FpValue $s 'Id'))] = [long](ConvertTo-FpDouble (Get-FpValue $s 'SessionId'))
    }
    $userOfSession = @{}
    foreach ($s in $quserSessions) { $userOfSession[$s.Id] = $s.User }
    # Prefer DOMAIN\user, as the owner lookups of listed processes spelled it.
    foreach ($p in $top) {
        if (-not $sessionOf.ContainsKey($p.Pid)) { continue }
        $sid = $sessionOf[$p.Pid]
        $owner = $ownerOf[$p.Pid]
        if ($userOfSession.ContainsKey($sid) -and $owner.EndsWith('\' + $userOfSession[$sid])) { $userOfSession[$sid] = $owner }
    }
    $totals = [System.Collections.Generic.List[object]]::new()
    $totalOf = @{}
    foreach ($p in $processes) {
        $label = '(unknown session)'
        if ($sessionOf.ContainsKey($p.Pid)) {
            $sid = $sessionOf[$p.Pid]
            if ($sid -eq 0) { $label = '(services)' }
            elseif ($userOfSession.ContainsKey($sid)) { $label = $userOfSession[$sid] }
            else { $label = '(session ' + $sid + ')' }
        }
        if (-not $totalOf.ContainsKey($label)) {
            $entry = @{ User = $label; CpuPct = [double]0; RssKb = [double]0; Count = 0 }
            $totalOf[$label] = $entry
            $totals.Add($entry)
        }
        $t = $totalOf[$label]
        $t.CpuPct += $p.CpuPct
        $t.RssKb += $p.RssKb
        $t.Count += 1
    }
    foreach ($t in $totals) {
        $out.Add("user`t" + (ConvertTo-FpField $t.User) + "`t" + (Format-FpNumber $t.CpuPct 1) + "`t" + (Format-FpNumber $t.RssKb 0) + "`t" + $t.Count)
    }

    foreach ($s in $quserSessions) {
        # A disconnected session has no session name; its state says so instead.
        $terminal = $s.SessionName
        if ($terminal -eq '') { $terminal = $s.State }
        $user = $s.User
        if ($userOfSession.ContainsKey($s.Id)) { $user = $userOfSession[$s.Id] }
        $out.Add("session`t" + (ConvertTo-FpField $user) + "`t" + (ConvertTo-FpField $terminal))
    }

    foreach ($w in @($Readings.Warnings)) {
        if ($null -ne $w) { $out.Add("warn`t" + (ConvertTo-FpField $w)) }
    }
    # Not in the suggested record set: processes counted.
    $out.Add("tasks`t" + $processes.Count + "`t0")
    $out.Add('end')
    return ($out -join "`n") + "`n"
}

# One CIM query, bounded: a hung WMI provider must cost a warning, not the poll.
function Get-FpCim([string]$Class, [string[]]$Property) {
    return @(Get-CimInstance -ClassName $Class -Property $Property -OperationTimeoutSec 10 -ErrorAction Stop)
}

# Everything the probe reads on the host. CPU readings are taken $WindowSeconds apart;
# the other readings happen inside the window, so they lengthen it instead of adding to it.
function Get-FpReadings([double]$WindowSeconds) {
    $warnings = [System.Collections.Generic.List[string]]::new()
    $cpuProperties = @('Name', 'PercentProcessorTime', 'Timestamp_Sys100NS')
    $procProperties = @('Name', 'IDProcess', 'PercentProcessorTime', 'WorkingSet', 'Timestamp_Sys100NS')
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try { $processor1 = Get-FpCim 'Win32_PerfRawData_PerfOS_Processor' $cpuProperties }
    catch { throw ('cannot read Win32_PerfRawData_PerfOS_Processor: ' + $_.Exception.Message) }
    $process1 = @()
    try { $process1 = Get-FpCim 'Win32_PerfRawData_PerfProc_Process' $procProperties }
    catch { $warnings.Add('processes not collected: ' + $_.Exception.Message) }

    try { $os = @(Get-FpCim 'Win32_OperatingSystem' @('Caption', 'Version', 'CSName', 'TotalVisibleMemorySize', 'FreePhysicalMemory', 'LastBootUpTime', 'LocalDateTime'))[0] }
    catch { throw ('cannot read Win32_OperatingSystem: ' + $_.Exception.Message) }
    $cs = $null
    try { $cs = @(Get-FpCim 'Win32_ComputerSystem' @('Name', 'DNSHostName', 'NumberOfLogicalProcessors'))[0] }
    catch { $warnings.Add('Win32_ComputerSystem not read: ' + $_.Exception.Message) }
    $revision = $null
    try { $revision = [Microsoft.Win32.Registry]::GetValue('HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion', 'UBR', $null) }
    catch { $revision = $null }
    $pageFiles = @()
    try { $pageFiles = Get-FpCim 'Win32_PageFileUsage' @('Name', 'AllocatedBaseSize', 'CurrentUsage') }
    catch { $warnings.Add('page files not read: ' + $_.Exception.Message) }
    $volumes = @()
    try {
        $volumes = @(Get-CimInstance -ClassName Win32_Volume -Filter 'DriveType=3' -Property @('Name', 'DriveLetter', 'FileSystem', 'Capacity', 'FreeSpace') -OperationTimeoutSec 10 -ErrorAction Stop)
    }
    catch { $warnings.Add('volumes not read: ' + $_.Exception.Message) }
    $processSessions = @()
    try { $processSessions = @(Get-Process | ForEach-Object { [pscustomobject]@{ Id = $_.Id; SessionId = $_.SessionId } }) }
    catch { $warnings.Add('process sessions not read: ' + $_.Exception.Message) }

    # quser writes "No User exists" to stderr and exits 1 when nobody is logged on. In
    # Windows PowerShell a redirected native stderr line under 'Stop' would throw.
    $quser = $null
    $command = Get-Command -Name quser.exe -CommandType Application -ErrorAction SilentlyContinue
    if ($null -eq $command) {
        $warnings.Add('quser.exe is not available; logged-on sessions not collected')
    }
    else {
        $saved = $ErrorActionPreference
        $ErrorActionPreference = 'Continue'
        try { $quser = @(& $command 2>&1 | Where-Object { $_ -is [string] }) }
        catch { $warnings.Add('quser failed: ' + $_.Exception.Message) }
        finally { $ErrorActionPreference = $saved }
    }

    $rest = [int]($WindowSeconds * 1000) - [int]$clock.ElapsedMilliseconds
    if ($rest -gt 0) { [System.Threading.Thread]::Sleep($rest) }
    try { $processor2 = Get-FpCim 'Win32_PerfRawData_PerfOS_Processor' $cpuProperties }
    catch { throw ('cannot read Win32_PerfRawData_PerfOS_Processor: ' + $_.Exception.Message) }
    $process2 = @()
    if ($process1.Count -gt 0) {
        try { $process2 = Get-FpCim 'Win32_PerfRawData_PerfProc_Process' $procProperties }
        catch { $warnings.Add('processes not collected: ' + $_.Exception.Message) }
    }

    return @{
        OperatingSystem = $os
        ComputerSystem  = $cs
        BuildRevision   = $revision
        Processor1      = $processor1
        Processor2      = $processor2
        Process1        = $process1
        Process2        = $process2
        ProcessSessions = $processSessions
        PageFiles       = $pageFiles
        Volumes         = $volumes
        Quser           = $quser
        Owners          = @{}
        Warnings        = $warnings
    }
}

# Owners of the listed processes only: GetOwner() is a WMI method call per process,
# far too slow for every process on a busy server.
function Get-FpOwners($Processes) {
    $owners = @{}
    $ids = @($Processes | ForEach-Object { $_.Pid })
    if ($ids.Count -eq 0) { return $owners }
    $filter = ($ids | ForEach-Object { 'ProcessId=' + $_ }) -join ' OR '
    foreach ($p in @(Get-CimInstance -ClassName Win32_Process -Filter $filter -Property @('ProcessId', 'Name') -OperationTimeoutSec 10 -ErrorAction Stop)) {
        try { $owners[[long]$p.ProcessId] = Invoke-CimMethod -InputObject $p -MethodName GetOwner -OperationTimeoutSec 5 -ErrorAction Stop }
        catch { $owners[[long]$p.ProcessId] = $null }
    }
    return $owners
}

# A tunable from the prepended lines, or its default when absent or out of range.
function Get-FpTunable([string]$Name, [double]$Default, [double]$Max) {
    $value = $ExecutionContext.SessionState.PSVariable.GetValue($Name)
    if ($null -eq $value) { return $Default }
    $number = [double]0
    if (-not [double]::TryParse([string]$value, [System.Globalization.NumberStyles]::Float, [System.Globalization.CultureInfo]::InvariantCulture, [ref]$number)) { return $Default }
    if ($number -le 0 -or $number -ge $Max) { return $Default }
    return $number
}

# Collects and formats one sample.
function Invoke-FpProbe {
    $window = Get-FpTunable 'FP_WINDOW' 1 1000
    $topN = [int][Math]::Floor((Get-FpTunable 'FP_TOPN' 10 1000))
    $readings = Get-FpReadings $window
    try {
        $top = Select-FpTop (Measure-FpProcesses $readings.Process1 $readings.Process2) $topN
        $readings.Owners = Get-FpOwners $top
    }
    catch { $readings.Warnings.Add('process owners not read: ' + $_.Exception.Message) }
    return Format-FpProbe $readings $topN
}

if ($null -eq $ExecutionContext.SessionState.PSVariable.Get('FP_LIBRARY')) { Invoke-FpProbe }
