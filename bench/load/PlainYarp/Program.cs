using Yarp.ReverseProxy.Configuration;

// usage: PlainYarp <listen url> <upstream url>
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "/{**rest}" } }],
    [new ClusterConfig
    {
        ClusterId = "upstream",
        Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = args[1] } },
    }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run(args[0]);
