return await RequestsProxy.Cli.RpctlApp.RunAsync(args);
