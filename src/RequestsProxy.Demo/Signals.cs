using System.Runtime.InteropServices;

namespace RequestsProxy.Demo;

/// <summary>kill(2): Process.Kill only sends SIGKILL, and a graceful stop needs SIGTERM.</summary>
internal static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    public static bool Send(int pid, int signal) => !OperatingSystem.IsWindows() && Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
