public enum AmanatAgePlaceholder {}
