public enum AmanatRedactionPlaceholder {}
