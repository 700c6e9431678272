public enum PluginAPIPlaceholder {}
