using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using k8s;
using k8s.Exceptions;
using RequestsProxy.Cli.Keys;

namespace RequestsProxy.Cli.Commands;

/// <summary>
/// Where a <c>keys</c> verb works: a folder (<c>--dir</c>) or the keys Secret (<c>--kubernetes</c>
/// with <c>--release</c> or <c>--secret</c>). Exactly one form; its options are refused with the
/// other, so a mistyped command never edits the wrong ring.
/// </summary>
internal sealed partial class KeyStoreOptions
{
    /// <summary>The chart's Secret name for a release (DESIGN §3).</summary>
    public const string SecretSuffix = "-requests-proxy-keys";

    public Option<string> Dir { get; } = new("--dir") { Description = "The key ring folder (folder form)" };

    public Option<bool> Kubernetes { get; } = new("--kubernetes")
    {
        Description = "Work on the keys Secret through the Kubernetes API (kubeconfig, or in-cluster config in a pod)",
    };

    public Option<string> Namespace { get; } = new("--namespace", "-n")
    {
        Description = "With --kubernetes: the namespace (default: the kubeconfig context's, else 'default')",
    };

    public Option<string> Release { get; } = new("--release")
    {
        Description = $"With --kubernetes: the Helm release; the Secret is <release>{SecretSuffix}",
    };

    public Option<string> Secret { get; } = new("--secret")
    {
        Description = "With --kubernetes: the Secret's name instead of --release (e.g. the chart's keys.existingSecret)",
    };

    public Option<string> Kubeconfig { get; } = new("--kubeconfig")
    {
        Description = "With --kubernetes: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster)",
    };

    public Option<string> Context { get; } = new("--context")
    {
        Description = "With --kubernetes: the kubeconfig context (default: the current context)",
    };

    private IEnumerable<Option> KubernetesOnly => [Namespace, Release, Secret, Kubeconfig, Context];

    public void AddTo(Command command)
    {
        command.Options.Add(Dir);
        command.Options.Add(Kubernetes);
        foreach (var option in KubernetesOnly)
        {
            command.Options.Add(option);
        }

        command.Validators.Add(Validate);
    }

    public IKeyRingStore CreateStore(ParseResult parse)
    {
        if (!parse.GetValue(Kubernetes))
        {
            return new FolderKeyRingStore(parse.GetValue(Dir)!);
        }

        KubernetesClientConfiguration config;
        try
        {
            var path = parse.GetValue(Kubeconfig);
            var context = parse.GetValue(Context);
            config = path is null && context is null
                ? KubernetesClientConfiguration.BuildDefaultConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(path, context);
        }
        catch (KubeConfigException e)
        {
            throw new CliException($"no usable Kubernetes configuration (kubeconfig or in-cluster): {e.Message}");
        }

        var ns = parse.GetValue(Namespace) is { Length: > 0 } given ? given : config.Namespace is { Length: > 0 } fromContext ? fromContext : "default";
        var name = parse.GetValue(Secret) ?? parse.GetValue(Release) + SecretSuffix;
        if (!DnsLabel().IsMatch(ns))
        {
            throw new CliException($"'{ns}' is not a namespace name");
        }

        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
        {
            throw new CliException($"'{name}' is not a Secret name (lowercase letters, digits, '-' and '.')");
        }

        return new KubernetesSecretKeyRingStore(new k8s.Kubernetes(config), ns, name);
    }

    private void Validate(CommandResult result)
    {
        var kubernetes = result.GetValue(Kubernetes);
        if ((result.GetResult(Dir) is not null) == kubernetes)
        {
            result.AddError("give exactly one of --dir DIR (a key ring folder) and --kubernetes (the keys Secret)");
            return;
        }

        if (!kubernetes)
        {
            foreach (var option in KubernetesOnly.Where(o => result.GetResult(o) is not null))
            {
                result.AddError($"{option.Name} applies only with --kubernetes");
            }

            return;
        }

        var release = result.GetResult(Release) is not null;
        var secret = result.GetResult(Secret) is not null;
        if (release == secret)
        {
            result.AddError($"--kubernetes needs exactly one of --release RELEASE (the Secret <release>{SecretSuffix}) and --secret NAME");
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    private static partial Regex DnsSubdomain();
}
