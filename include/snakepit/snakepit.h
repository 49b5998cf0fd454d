// Umbrella header: everything an application needs.
#ifndef SNAKEPIT_SNAKEPIT_H_
#define SNAKEPIT_SNAKEPIT_H_

#include "snakepit/call.h"
#include "snakepit/compatibility.h"
#include "snakepit/config.h"
#include "snakepit/events.h"
#include "snakepit/inspector.h"
#include "snakepit/logging.h"
#include "snakepit/pool_manager.h"
#include "snakepit/python_environment.h"
#include "snakepit/stats.h"
#include "snakepit/stream.h"
#include "snakepit/version.h"

#endif  // SNAKEPIT_SNAKEPIT_H_
