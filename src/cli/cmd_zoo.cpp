#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/option_checks.hpp"
#include "conveyor/graph/zoo.hpp"

namespace conveyor::cli {
namespace {

struct ZooCommand {
  std::string name;
  std::string output;
  std::string batch = "1";
  zoo::ZooOptions options;
};

std::string known_names() {
  std::string all;
  for (const auto& n : zoo::names()) all += (all.empty() ? "" : ", ") + n;
  return all;
}

}  // namespace

void add_zoo_command(CLI::App& app) {
  auto o = std::make_shared<ZooCommand>();
  CLI::App* cmd = app.add_subcommand("zoo", "Write a standard model with seeded random weights as ONNX (" + known_names() + ")");
  cmd->add_option("name", o->name, "Model name")->required();
  cmd->add_option("-o,--output", o->output, "ONNX file to write (its folder is created)")->required();
  cmd->add_option("--seed", o->options.seed, "Weight seed (same seed, same bytes)")
      ->capture_default_str()
      ->check(whole_number(0, kMaxSeed));
  cmd->add_option("--batch", o->batch, "Batch size, or dynamic (a symbolic first dimension: any batch)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            if (text == "dynamic") return "";
            return whole_number(1, 1 << 20)(text);
          },
          "N|dynamic", "batch"));
  cmd->add_option("--opset", o->options.opset, "ONNX opset (13..17)")->capture_default_str();
  cmd->add_option("--image-size", o->options.image_size, "CNN input height and width")->capture_default_str();
  cmd->add_option("--layers", o->options.layers, "bert, bert_encoder: encoder layers")->capture_default_str();
  cmd->add_option("--hidden", o->options.hidden, "bert, bert_encoder: width")->capture_default_str();
  cmd->add_option("--heads", o->options.heads, "bert, bert_encoder: attention heads")->capture_default_str();
  cmd->add_option("--seq-len", o->options.seq_len, "bert, bert_encoder: sequence length")
      ->capture_default_str();
  cmd->add_option("--vocab", o->options.vocab, "bert: vocabulary size")->capture_default_str();
  cmd->add_option("--classes", o->options.classes, "bert: classifier outputs")->capture_default_str();
  cmd->footer(
      "Examples:\n  conveyor zoo resnet50 -o resnet50.onnx --seed 1\n"
      "  conveyor zoo bert -o bert.onnx --layers 4 --hidden 256 --seq-len 128\n"
      "  conveyor zoo bert_encoder -o encoder.onnx --batch dynamic   # for a stage with batch:\n"
      "  conveyor zoo bert_encoder -o encoder.onnx   # encoder layers only: float32 hidden_states\n"
      "                                              # [batch, seq, hidden] -> last_hidden_state");
  cmd->callback([o] {
    const std::filesystem::path folder = std::filesystem::path(o->output).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder);  // -o ~/.cache/conveyor/models/m.onnx
    o->options.dynamic_batch = o->batch == "dynamic";
    if (!o->options.dynamic_batch) o->options.batch = std::stoi(o->batch);
    zoo::write(o->name, o->options, o->output);
    std::printf("wrote %s (%s, seed %llu, batch %s)\n", o->output.c_str(), o->name.c_str(),
                static_cast<unsigned long long>(o->options.seed), o->batch.c_str());
  });
}

}  // namespace conveyor::cli
