/* ff_train: train a gradient-boosted tree model (XGBoost, hist method) on a
 * training set and its blueprint, and package it as an ff model artifact. */
#ifndef FF_TRAIN_H
#define FF_TRAIN_H

#include <stdio.h>

#include "ff_blueprint.h"

struct ff_train_options {
	int rounds;             /* boosting rounds (the most, with early stopping) */
	int depth;
	double eta;
	double min_child_weight;
	double subsample;
	double colsample;
	double lambda;
	int seed;
	int threads;
	const char *objective;
	double holdout;         /* fraction of the latest rows held out */
	int early_stopping;     /* rounds without improvement; 0 = off */
	const char *time_column; /* orders rows for the holdout; NULL: the blueprint's */
	struct ff_strlist categorical;
	FILE *report;           /* metrics and importance, for people */
};

void ff_train_options_init(struct ff_train_options *o);

/* Train on the inputs (training set files; none: stdin) with the blueprint
 * at blueprint_path, and write the artifact to out. Returns 0 or -1. */
int ff_train_run(const char *blueprint_path, char **inputs, size_t ninputs,
		 const struct ff_train_options *o, FILE *out);

#endif
