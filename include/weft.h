/* SPDX-License-Identifier: MIT */
/**
 * \file weft.h
 * \brief weft: Python's concurrency model for C, one behaviour on Linux,
 *        macOS, the BSDs and Windows. Include this one header.
 */
#ifndef WEFT_H
#define WEFT_H

#include "weft/base.h"
#include "weft/version.h"
#include "weft/time.h"
#include "weft/lock.h"
#include "weft/sync.h"
#include "weft/thread.h"
#include "weft/local.h"
#include "weft/exit.h"
#include "weft/executor.h"
#include "weft/queue.h"
#include "weft/process.h"
#include "weft/popen.h"
#include "weft/ipc.h"

#endif /* WEFT_H */
