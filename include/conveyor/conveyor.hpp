#pragma once
// conveyor's public API in one header: the Runtime facade (load, profile, plan and start pipelines, load
// single models) and the types it hands out. See README.md "Using the library".
#include "conveyor/api/errors.hpp"
#include "conveyor/api/model.hpp"
#include "conveyor/api/predictions.hpp"
#include "conveyor/api/running_pipeline.hpp"
#include "conveyor/api/runtime.hpp"
#include "conveyor/api/timeline_plot.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/ops/registry.hpp"
#include "conveyor/runtime/operator.hpp"
#include "conveyor/runtime/pipeline.hpp"
#include "conveyor/runtime/chrome_trace.hpp"
#include "conveyor/runtime/result_queue.hpp"
#include "conveyor/runtime/timeline.hpp"
#include "conveyor/tensor/npy.hpp"
#include "conveyor/tensor/tensor.hpp"
#include "conveyor/version.hpp"
