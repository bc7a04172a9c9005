import AmanatMedia
import Testing
