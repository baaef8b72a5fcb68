// What every route file of the broker uses: ASP.NET Core's routing and HTTP types, the core's C# facades, and the
// broker's own input readers and access checks.
global using Finales.Core.Interop;
global using Microsoft.AspNetCore.Builder;
global using Microsoft.AspNetCore.Http;
global using Microsoft.AspNetCore.Routing;
global using Microsoft.Extensions.Logging;
global using static Finales.Broker.Access;
global using static Finales.Broker.ApiInput;
