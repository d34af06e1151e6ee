// Data of step inputs bound to http(s) URLs, fetched into the run
// directory before the run is planned, so that every later decision (the
// single-file layout, the cache key by contents) sees a local file.
#pragma once

#include <string>

#include "ir/diagnostics.h"
#include "ir/flatten.h"

namespace pipec::runtime {

/// Whether input `port` bound to `d` is fetched: a `file` (`uri_file`)
/// input bound to an http:// or https:// URL.
bool isFetchedInput(const ir::Port& port, const ir::DataSource& d);

/// Fetches every input of `flat` that isFetchedInput() into
/// `<run_dir>/fetched/<step>/<input>/<file>` with curl and points its data
/// source at the file. A fetch that fails is E1800 at the binding, with the
/// `--input STEP.NAME=PATH` that replaces it. Returns false on any failure.
bool fetchInputs(ir::FlatPipeline& flat, const std::string& run_dir,
                 ir::DiagnosticEngine& diags);

}  // namespace pipec::runtime
