// "Did you mean ...?" for the `snakepit` tool: the nearest known word to a
// mistyped command or flag. CLI11 reports unknown arguments but suggests
// nothing.
#ifndef SNAKEPIT_SRC_CLI_SUGGEST_H_
#define SNAKEPIT_SRC_CLI_SUGGEST_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snakepit::cli {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbouring characters each cost 1 ("wrokers" is 1 from
// "workers").
std::size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if one is near enough to be what was
// meant: within a third of the word's length (at least 1, at most 3 edits),
// or one that starts with `word` when `word` has 3 characters or more
// ("--work" -> "--workers"). Leading dashes count as characters. Ties go to
// the candidate listed first. Empty when none fits.
std::optional<std::string> Suggest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_SUGGEST_H_
