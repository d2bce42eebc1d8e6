using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

// usage: PlainYarp <listen url> <upstream url>
// PLAIN_YARP_MODE picks what the control measures:
//   routed (default) YARP's routing pipeline, as requests-proxy uses it;
//   direct           IHttpForwarder from a terminal middleware, no routing;
//   hello            Kestrel answering 200 itself, no forwarding (the server-side floor).
var mode = Environment.GetEnvironmentVariable("PLAIN_YARP_MODE") ?? "routed";
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
switch (mode)
{
    case "routed":
        app.MapReverseProxy();
        break;
    case "direct":
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
        });
        var upstream = args[1];
        app.Run(async context => await forwarder.SendAsync(context, upstream, client));
        break;
    case "hello":
        app.Run(context => context.Response.WriteAsync("ok"));
        break;
    default:
        throw new ArgumentException($"PLAIN_YARP_MODE '{mode}' is not routed, direct or hello");
}

app.Run(args[0]);
