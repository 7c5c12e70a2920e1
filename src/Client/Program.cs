using ReMA.Client;

return await Cli.Root().Parse(args).InvokeAsync();
