/* Placeholder: the filter ABI v1 is defined by issue 4. */
#ifndef MCPGATE_FILTER_H
#define MCPGATE_FILTER_H
#define MCPGATE_ABI_MAJOR 1
#endif
