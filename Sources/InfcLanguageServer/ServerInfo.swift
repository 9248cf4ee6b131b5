// Language server: what the server says of itself in the initialize response.

public enum ServerInfo {
    public static let name = "infc"
}
