// pwsh-sma: a stand-in for the `pwsh` executable, for the tests only.
//
// The PowerShell global tool (`dotnet tool install --global PowerShell`) is not on the NuGet
// feed this CI can reach, but the PowerShell engine is: System.Management.Automation holds the
// parser, the language runtime, Invoke-Command, the remoting client (PSRP over SSH) and the
// remoting server. This program hosts that engine behind the part of pwsh's command line that
// fleetpoll and its tests use, so the tests run real PowerShell code, not a mock:
//
//   -Command -              read commands from stdin, one complete statement at a time
//                           (how node-powershell drives a long-lived shell)
//   -Command <text>, -c     run text; redirected stdin is the script's $input, as in pwsh
//   -EncodedCommand <b64>   the same, UTF-16LE base64 (what fleetpoll sends to Windows over SSH)
//   -File <path> [args]     run a script file
//   -sshs                   the PowerShell remoting server for sshd's `Subsystem powershell`
//   -NoLogo -NoProfile -NonInteractive -NoExit -ExecutionPolicy <x>   accepted; no profiles exist
//
// Only the engine's core cmdlets exist here (Invoke-Command, jobs, ForEach-Object,
// Where-Object, Out-Default, ...): the Utility and Management modules are not on the feed,
// so code under test that must run here sticks to the language, .NET and those cmdlets.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Security;
using System.Text;

internal static class Program
{
    private static int Main(string[] args)
    {
        string command = null;
        string encoded = null;
        string file = null;
        var fileArgs = new List<string>();
        bool readStdinCommands = false;
        bool sshServer = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string name = a.StartsWith("-") || a.StartsWith("/") ? a.Substring(1).ToLowerInvariant() : null;
            if (name == null)
            {
                // pwsh treats a bare first argument as -File.
                file = a;
                for (i++; i < args.Length; i++) fileArgs.Add(args[i]);
                break;
            }
            switch (name)
            {
                case "nologo": case "noprofile": case "noninteractive": case "noexit": case "nop": case "noni":
                    break;
                case "executionpolicy": case "ep": case "inputformat": case "outputformat": case "of": case "if":
                    i++;
                    break;
                case "command": case "c":
                    if (i + 1 < args.Length && args[i + 1] == "-") readStdinCommands = true;
                    else command = string.Join(" ", args, i + 1, args.Length - i - 1);
                    i = args.Length;
                    break;
                case "encodedcommand": case "ec": case "e":
                    encoded = i + 1 < args.Length ? args[++i] : "";
                    break;
                case "file": case "f":
                    file = i + 1 < args.Length ? args[++i] : "";
                    for (i++; i < args.Length; i++) fileArgs.Add(args[i]);
                    break;
                case "sshs": case "sshservermode":
                    sshServer = true;
                    break;
                case "version": case "v":
                    Console.Out.WriteLine("PowerShell " + PSVersion());
                    return 0;
                default:
                    Console.Error.WriteLine("pwsh-sma: unsupported argument " + a);
                    return 64;
            }
        }

        if (sshServer) return RunSshServer();

        var host = new MiniHost();
        var iss = InitialSessionState.CreateDefault2();
        using (var runspace = RunspaceFactory.CreateRunspace(host, iss))
        {
            runspace.Open();
            if (readStdinCommands) return RunStdinCommands(runspace, host);
            if (encoded != null)
            {
                try
                {
                    command = Encoding.Unicode.GetString(Convert.FromBase64String(encoded));
                }
                catch (FormatException)
                {
                    Console.Error.WriteLine("pwsh-sma: -EncodedCommand is not valid base64");
                    return 64;
                }
            }
            if (command != null) return RunOnce(runspace, host, command, null, Console.IsInputRedirected);
            if (file != null) return RunOnce(runspace, host, null, file, false, fileArgs);
            Console.Error.WriteLine("pwsh-sma: no command (interactive use is not supported)");
            return 64;
        }
    }

    private static string PSVersion()
    {
        var v = typeof(PowerShell).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>();
        return v == null ? typeof(PowerShell).Assembly.GetName().Version.ToString() : v.InformationalVersion.Split(new[] { '+', ' ' })[0];
    }

    // The remoting server pwsh starts for `Subsystem powershell ... -sshs`: PSRP on stdin/stdout.
    // The mediator is internal to the engine (pwsh's console host reaches it the same way).
    private static int RunSshServer()
    {
        var type = typeof(PowerShell).Assembly.GetType("System.Management.Automation.Remoting.Server.StdIOProcessMediator", true);
        var run = type.GetMethod("Run", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic);
        run.Invoke(null, new object[] { null, null, null, null, false });
        return 0;
    }

    private static IEnumerable<object> StdinLines()
    {
        string line;
        while ((line = Console.In.ReadLine()) != null) yield return line;
    }

    private static int RunOnce(Runspace runspace, MiniHost host, string command, string file, bool stdinAsInput, List<string> fileArgs = null)
    {
        using (var ps = PowerShell.Create())
        {
            ps.Runspace = runspace;
            if (command != null) ps.AddScript(command);
            else
            {
                ps.AddCommand(Path.GetFullPath(file));
                foreach (var a in fileArgs) ps.AddArgument(a);
            }
            ps.AddCommand("Out-Default");
            bool failed = Execute(ps, stdinAsInput ? StdinLines() : null);
            if (host.ShouldExit) return host.ExitCode;
            return failed ? 1 : 0;
        }
    }

    // Runs one pipeline; errors go to stderr as pwsh prints them when its output is redirected.
    private static bool Execute(PowerShell ps, IEnumerable<object> input)
    {
        bool failed = false;
        try
        {
            if (input != null) ps.Invoke(input);
            else ps.Invoke();
        }
        catch (RuntimeException e)
        {
            if (e.ErrorRecord != null && e.ErrorRecord.Exception is ExitException) return false;
            Console.Error.WriteLine(e.ErrorRecord != null ? e.ErrorRecord.ToString() : e.Message);
            failed = true;
        }
        foreach (var error in ps.Streams.Error)
        {
            Console.Error.WriteLine(error.ToString());
            failed = true;
        }
        ps.Streams.Error.Clear();
        return failed || ps.HadErrors && ps.InvocationStateInfo.State == PSInvocationState.Failed;
    }

    // `-Command -`: statements arrive on stdin; each runs as soon as it parses complete,
    // in one runspace, so state (functions, variables, jobs) persists between them.
    private static int RunStdinCommands(Runspace runspace, MiniHost host)
    {
        var buffer = new StringBuilder();
        string line;
        while ((line = Console.In.ReadLine()) != null)
        {
            buffer.Append(line).Append('\n');
            string text = buffer.ToString();
            Token[] tokens;
            ParseError[] errors;
            Parser.ParseInput(text, out tokens, out errors);
            bool incomplete = false;
            foreach (var e in errors) if (e.IncompleteInput) incomplete = true;
            // As in pwsh, an empty line ends an incomplete statement (and reports its error).
            if (incomplete && line.Length > 0) continue;
            buffer.Clear();
            if (text.Trim().Length == 0) continue;
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = runspace;
                ps.AddScript(text).AddCommand("Out-Default");
                Execute(ps, null);
            }
            if (host.ShouldExit) return host.ExitCode;
        }
        return 0;
    }
}

// Enough of a host for Out-Default, Write-Host and `exit`.
internal sealed class MiniHost : PSHost
{
    private readonly Guid id = Guid.NewGuid();
    private readonly MiniHostUI ui = new MiniHostUI();
    public bool ShouldExit;
    public int ExitCode;

    public override string Name => "pwsh-sma";
    public override Version Version => typeof(PowerShell).Assembly.GetName().Version;
    public override Guid InstanceId => id;
    public override PSHostUserInterface UI => ui;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
    public override void SetShouldExit(int exitCode)
    {
        ShouldExit = true;
        ExitCode = exitCode;
    }
    public override void EnterNestedPrompt() => throw new NotSupportedException("no nested prompts");
    public override void ExitNestedPrompt() => throw new NotSupportedException("no nested prompts");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}

internal sealed class MiniHostUI : PSHostUserInterface
{
    private readonly MiniRawUI raw = new MiniRawUI();
    public override PSHostRawUserInterface RawUI => raw;
    public override void Write(string value) => Console.Out.Write(value);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Out.Write(value);
    public override void WriteLine(string value) => Console.Out.WriteLine(value);
    public override void WriteErrorLine(string value) => Console.Error.WriteLine(value);
    public override void WriteDebugLine(string message) => Console.Out.WriteLine("DEBUG: " + message);
    public override void WriteVerboseLine(string message) => Console.Out.WriteLine("VERBOSE: " + message);
    public override void WriteWarningLine(string message) => Console.Out.WriteLine("WARNING: " + message);
    public override void WriteProgress(long sourceId, ProgressRecord record) { }
    public override string ReadLine() => throw new PSInvalidOperationException("the host is non-interactive");
    public override SecureString ReadLineAsSecureString() => throw new PSInvalidOperationException("the host is non-interactive");
    public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) =>
        throw new PSInvalidOperationException("the host is non-interactive");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw new PSInvalidOperationException("the host is non-interactive");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        throw new PSInvalidOperationException("the host is non-interactive");
    public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) =>
        throw new PSInvalidOperationException("the host is non-interactive");
}

// Output is redirected, so a fixed wide buffer, as pwsh assumes without a console.
internal sealed class MiniRawUI : PSHostRawUserInterface
{
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override Coordinates CursorPosition { get; set; }
    public override Coordinates WindowPosition { get; set; }
    public override int CursorSize { get; set; }
    public override Size BufferSize { get; set; } = new Size(4096, 1000);
    public override Size WindowSize { get; set; } = new Size(4096, 1000);
    public override Size MaxWindowSize => new Size(4096, 1000);
    public override Size MaxPhysicalWindowSize => new Size(4096, 1000);
    public override bool KeyAvailable => false;
    public override string WindowTitle { get; set; } = "";
    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new PSInvalidOperationException("the host is non-interactive");
    public override void FlushInputBuffer() { }
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
}
