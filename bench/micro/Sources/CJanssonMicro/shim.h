// jansson for the JSON-RPC parse benchmark (the gateway's own CJansson target is not a product).
#include <jansson.h>
