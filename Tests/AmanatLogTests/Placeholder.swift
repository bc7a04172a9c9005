import AmanatLog
import Testing
