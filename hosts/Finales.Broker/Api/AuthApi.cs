using System.Security.Cryptography;
using System.Text;

namespace Finales.Broker;

/// <summary>FINALES2's login route (form fields, bearer token) and its "who am I" route.</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapRoute("", "POST", "/user_management/authenticate", "Log in with form fields username and password; returns a bearer token.", null, "auth", async ctx =>
        {
            if (!ctx.Request.HasFormContentType)
                throw ApiError.ValidationOne(["body", "username"], "field required (send username and password as form fields)", "value_error.missing");
            var form = await LoginForm(ctx);
            var username = form["username"].ToString();
            var password = form["password"].ToString();
            if (string.IsNullOrEmpty(username)) throw ApiError.ValidationOne(["body", "username"], "field required", "value_error.missing");
            if (string.IsNullOrEmpty(password)) throw ApiError.ValidationOne(["body", "password"], "field required", "value_error.missing");
            var grant = form["grant_type"].ToString();
            if (grant.Length > 0 && grant != "password")
                throw ApiError.ValidationOne(["body", "grant_type"], $"grant_type must be 'password', got '{ApiError.Echo(grant)}'", "value_error.str.regex");
            var svc = Svc(ctx);
            var address = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (svc.Logins.Blocked(address, username) is { } wait)
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                throw new ApiError(429, $"too many failed logins from this address or for this user; retry after {seconds} s") { RetryAfterSeconds = seconds };
            }
            // Unknown user and wrong password give the same answer (no user enumeration), and the same work: unknown
            // and inactive users are verified against a dummy hash with the same iterations.
            var known = svc.Current.Users.TryGetValue(username, out var user) && user.IsActive;
            var verified = Passwords.Verify(known ? user!.PasswordHash : Passwords.Dummy, password);
            if (!known || !verified)
            {
                svc.Logins.Failed(address, username);
                throw new ApiError(401, "Authentication failed. Wrong username or password.");
            }
            return ApiResults.Json(new Dictionary<string, string> { ["access_token"] = svc.Tokens.Issue(username, user!.TokenVersion, svc.UtcNow), ["token_type"] = "bearer" });
        });

        app.MapRoute("", "GET", "/test", "Who am I: username, uuid, usergroups of the caller.", Policies.User, "auth", ctx =>
        {
            var u = Caller(ctx);
            var uuid = new Guid(MD5.HashData(Encoding.UTF8.GetBytes("finales-user:" + u.Username)));
            return ApiResults.Json(new Dictionary<string, object> { ["username"] = u.Username, ["uuid"] = uuid.ToString("D"), ["usergroups"] = u.Roles });
        });
        return app;
    }
}
