"""hubchat: real-time messaging and SOS alerting for the Mizo diaspora hub."""

__version__ = "0.1.0"
