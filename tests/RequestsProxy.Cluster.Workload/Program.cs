using RequestsProxy.Cluster.Workload;

return args switch
{
    ["trainer"] => await Trainer.RunAsync(CancellationToken.None),
    ["upstream"] => await Upstream.RunAsync(args),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: rp-workload trainer|upstream");
    return 2;
}
