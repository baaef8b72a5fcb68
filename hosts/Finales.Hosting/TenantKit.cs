namespace Finales.Hosting;

public static class TenantKit
{
}
