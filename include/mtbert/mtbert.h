/* The whole public interface of libmtbert in one include, and a map of it
 * for a newcomer: each group below says what its headers are for.  A front
 * end may include this or just the headers it uses; everything else the
 * library holds (the ops, checkpoint files, the merge methods' maths, ...)
 * lives in src/lib and is not part of the interface. */
#ifndef MTBERT_MTBERT_H
#define MTBERT_MTBERT_H

/* Errors every call can report; files and folders (reads with size
 * limits, atomic writes, mkdir -p); the clock every timing uses; one
 * process per run folder. */
#include "mtbert/error.h"
#include "mtbert/file.h"
#include "mtbert/clock.h"
#include "mtbert/run_lock.h"

/* The model: BERT's hyper-parameters and encoder, the tokenizer, sentence
 * encodings, the three task heads and the multitask model around them, the
 * Hugging Face model folder it loads and saves, and the seeded random
 * numbers every random choice draws. */
#include "mtbert/config.h"
#include "mtbert/bert.h"
#include "mtbert/tokenizer.h"
#include "mtbert/sentence.h"
#include "mtbert/heads.h"
#include "mtbert/multitask.h"
#include "mtbert/model_dir.h"
#include "mtbert/rng.h"

/* Data: the minBERT task files, tokenized into batches. */
#include "mtbert/data.h"
#include "mtbert/batcher.h"

/* Training: the trainer and its thread, the events it publishes, the
 * multitask merge methods and modes, the optimizer's and the learning-rate
 * schedule's settings. */
#include "mtbert/trainer.h"
#include "mtbert/events.h"
#include "mtbert/merge.h"
#include "mtbert/adamw.h"
#include "mtbert/schedule.h"

/* Results: evaluation over datasets, the tasks' metrics, and scoring typed
 * sentences. */
#include "mtbert/evaluate.h"
#include "mtbert/metrics.h"
#include "mtbert/score.h"

/* Speed and the machine: the worker pool, the dense products and their
 * precision, the CPU and OpenBLAS kernel in use (and how to describe them),
 * and where a step's time goes. */
#include "mtbert/parallel.h"
#include "mtbert/gemm.h"
#include "mtbert/precision.h"
#include "mtbert/cpu.h"
#include "mtbert/blas_kernel.h"
#include "mtbert/machine.h"
#include "mtbert/profile.h"

#endif
