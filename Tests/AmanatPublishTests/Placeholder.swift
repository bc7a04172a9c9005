import Testing

@Suite("AmanatPublish placeholder") struct PublishPlaceholderTests {}
