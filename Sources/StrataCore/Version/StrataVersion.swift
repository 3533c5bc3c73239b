/// Strata's release version. The code version of a training run also records the git commit,
/// which the build stamps in separately.
public enum StrataVersion {
    public static let current = "0.1.0"
}
