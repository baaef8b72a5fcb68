namespace Finales.Broker;

public static class BrokerModule
{
}
