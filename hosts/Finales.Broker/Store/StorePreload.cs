using Finales.Core;

namespace Finales.Broker;

// Benchmark support only (bench lists, the streaming tests): not part of the store port.
public abstract partial class SqlBrokerStore
{
    /// <summary>
    /// Benchmark support: appends <paramref name="count"/> resolved requests with one result each, exactly as the
    /// lifecycle would (rows, events and projections), in large transactions. <paramref name="progress"/> sees the count done.
    /// </summary>
    public void Preload(int count, string requestJson, string resultJsonTemplate, Guid tenant, string quantity, string method, Action<int> progress)
    {
        const int batch = 5000;
        var methods = Methods([method]);
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batch, count - done);
            WriteAsync((c, tx) =>
            {
                var ctime = WireFormat.ctime(UtcNow);
                for (var i = 0; i < n; i++)
                {
                    var id = NewId();
                    var rid = NewId();
                    var seq = Convert.ToInt64(Scalar(c, tx, "INSERT INTO requests (uuid, ctime, quantity, methods, body, tenant_uuid) VALUES (@p0, @p1, @p2, @p3, @p4, @p5) RETURNING seq",
                        id.ToString("D"), ctime, quantity, methods, requestJson, tenant.ToString("D")));
                    Exec(c, tx, "INSERT INTO request_state (uuid, seq, quantity, methods, requester, status, version) VALUES (@p0, @p1, @p2, @p3, @p4, 'resolved', 2)",
                        id.ToString("D"), seq, quantity, methods, tenant.ToString("D"));
                    InsertMethods(c, tx, id.ToString("D"), quantity, [method], seq, false);
                    Exec(c, tx, "INSERT INTO events (request_uuid, kind, status, time, actor, tenant_uuid, message, requester) VALUES (@p0, 'created', 'pending', @p1, 'preload', @p2, '', @p2)",
                        id.ToString("D"), ctime, tenant.ToString("D"));
                    Exec(c, tx, "INSERT INTO events (request_uuid, result_uuid, kind, status, time, actor, tenant_uuid, message) VALUES (@p0, @p1, 'result_posted', 'resolved', @p2, 'preload', @p3, '')",
                        id.ToString("D"), rid.ToString("D"), ctime, tenant.ToString("D"));
                    Exec(c, tx, "INSERT INTO results (uuid, ctime, request_uuid, quantity, method, body, tenant_uuid, rating) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, 2)",
                        rid.ToString("D"), ctime, id.ToString("D"), quantity, method, resultJsonTemplate.Replace("REQUEST_UUID", id.ToString("D")), tenant.ToString("D"));
                    Exec(c, tx, "INSERT INTO result_state (uuid, seq, request_uuid, tenant_uuid, status) VALUES (@p0, 2, @p1, @p2, 'original')",
                        rid.ToString("D"), id.ToString("D"), tenant.ToString("D"));
                }
                return 0;
            }, CancellationToken.None).GetAwaiter().GetResult();
            done += n;
            progress(done);
        }
    }
}
