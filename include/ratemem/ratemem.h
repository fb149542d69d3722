/* ratemem: distributed firing-rate associative memories. Umbrella header. */
#pragma once
#define RATEMEM_VERSION "0.1.0"
#include <ratemem/sys.h>
#include <ratemem/patterns.h>
#include <ratemem/activation.h>
#include <ratemem/factors.h>
#include <ratemem/synapses.h>
#include <ratemem/dynamics.h>
#include <ratemem/integrate.h>
#include <ratemem/woodbury.h>
#include <ratemem/classify.h>
#include <ratemem/stability.h>
#include <ratemem/io.h>
