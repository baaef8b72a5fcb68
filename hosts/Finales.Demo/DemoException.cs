namespace Finales.Demo;

/// <summary>A demo that cannot start or go on (a bad option, a refused call, a child that died): its host prints the
/// message without a stack trace and exits with code 2.</summary>
public sealed class DemoException(string message) : Exception(message);
