/* mg_metrics_text.h: report and VQA metrics. */
#ifndef MG_METRICS_TEXT_H
#define MG_METRICS_TEXT_H
#endif
