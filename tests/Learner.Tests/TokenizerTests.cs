using System.Text;
using ReMA.Learner.Tokenization;

namespace ReMA.Learner.Tests;

public class TokenizerTests
{
    private static ByteLevelBpeTokenizer Bpe(bool pairMerges = false)
    {
        string dir = TestModels.TempDir();
        return ByteLevelBpeTokenizer.Load(TokenizerFixtures.Write(dir, pairMerges));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bpe_AppliesMergesFromTokenizerJson(bool pairMerges)
    {
        ByteLevelBpeTokenizer tok = Bpe(pairMerges);
        var vocab = TokenizerFixtures.Vocabulary();
        Assert.Equal(new[] { vocab["hello"], vocab["Ġthe"], vocab["Ġwor"], vocab["l"], vocab["d"] }, tok.Encode("hello the world"));
    }

    [Theory]
    [InlineData("hello the world")]
    [InlineData("héllo wörld 😀 12+34=46\n\n  tabs\tand 'quotes'")]
    [InlineData("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")]
    public void Bpe_RoundTripsTextIncludingSpecialTokens(string text)
    {
        ByteLevelBpeTokenizer tok = Bpe();
        int[] ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        byte[] bytes = ids.SelectMany(id => tok.TokenBytes(id).ToArray()).ToArray();
        Assert.Equal(Encoding.UTF8.GetBytes(text), bytes);
    }

    [Fact]
    public void Bpe_SpecialTokensAreSingleIds()
    {
        ByteLevelBpeTokenizer tok = Bpe();
        int[] ids = tok.Encode("<|im_start|>hi<|im_end|><|endoftext|>");
        Assert.Equal(TokenizerFixtures.SpecialId(SpecialTokenNames.ImStart), ids[0]);
        Assert.Equal(TokenizerFixtures.SpecialId(SpecialTokenNames.ImEnd), ids[^2]);
        Assert.Equal(TokenizerFixtures.SpecialId(SpecialTokenNames.EndOfText), ids[^1]);
        Assert.Equal(4 + 1, ids.Length); // "hi" is two byte tokens
        Assert.Equal("hi", tok.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(TokenizerFixtures.SpecialId(SpecialTokenNames.ImEnd), tok.TurnEndId);
        Assert.Equal(TokenizerFixtures.SpecialId(SpecialTokenNames.ImEnd), tok.EosId); // eos_token from tokenizer_config.json
        Assert.Equal(TokenizerFixtures.VocabSize, tok.VocabSize);
    }

    [Fact]
    public void Bpe_SaveWritesTheSameFiles()
    {
        string source = TestModels.TempDir();
        TokenizerFixtures.Write(source);
        var tok = ByteLevelBpeTokenizer.Load(Path.Combine(source, ByteLevelBpeTokenizer.FileName));
        string target = TestModels.TempDir();
        tok.Save(target);
        Assert.Equal(File.ReadAllText(Path.Combine(source, "tokenizer.json")), File.ReadAllText(Path.Combine(target, "tokenizer.json")));
        var again = TokenizerLoader.Load(target);
        Assert.Equal(tok.Encode("hello the world"), again.Encode("hello the world"));
    }

    [Fact]
    public void Bpe_RejectsNonBpeModelWithFieldName()
    {
        string dir = TestModels.TempDir();
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "WordPiece", "vocab": {}}}""");
        var error = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(path));
        Assert.Contains("model.type", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Theory]
    [InlineData("12+34*(5-6)=?\nPlan: [FINISH] \\boxed{7}")]
    [InlineData("<|im_start|>system\nYou plan.<|im_end|>\n")]
    public void Char_RoundTripsTextIncludingSpecialTokens(string text)
    {
        var tok = new CharTokenizer();
        int[] ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        Assert.Equal(Encoding.UTF8.GetBytes(text), ids.SelectMany(id => tok.TokenBytes(id).ToArray()).ToArray());
    }

    [Fact]
    public void Char_SpecialTokensAreSingleIdsAndSaveLoadKeepsTheVocabulary()
    {
        var tok = new CharTokenizer("0123456789+-*/=() \n");
        int[] ids = tok.Encode("<|im_start|>1+2<|im_end|>");
        Assert.Equal([1, tok.Encode("1")[0], tok.Encode("+")[0], tok.Encode("2")[0], 2], ids);
        string dir = TestModels.TempDir();
        tok.Save(dir);
        ITokenizer loaded = TokenizerLoader.Load(dir);
        Assert.Equal(tok.VocabSize, loaded.VocabSize);
        Assert.Equal(ids, loaded.Encode("<|im_start|>1+2<|im_end|>"));
    }

    [Fact]
    public void Char_UnknownCharacterIsNamed()
    {
        var tok = new CharTokenizer("abc");
        var error = Assert.Throws<ArgumentException>(() => tok.Encode("abz"));
        Assert.Contains("'z'", error.Message);
        Assert.Contains("position 2", error.Message);
    }

    [Fact]
    public void ChatTemplate_RendersChatMlWithAGenerationPrompt()
    {
        foreach (ITokenizer tok in new ITokenizer[] { new CharTokenizer(), Bpe() })
        {
            var chat = new ChatTemplate(tok);
            ChatMessage[] messages = [ChatMessage.System("You are the planner."), ChatMessage.User("What is 2+3?"), ChatMessage.Assistant("Add.")];
            string text = chat.RenderText(messages, addGenerationPrompt: true);
            Assert.Equal("<|im_start|>system\nYou are the planner.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\nAdd.<|im_end|>\n<|im_start|>assistant\n", text);
            Assert.Equal(tok.Encode(text), chat.Render(messages, addGenerationPrompt: true));
            Assert.Equal(tok.TurnEndId, chat.TurnEndId);
        }
    }

    [Fact]
    public void ChatTemplate_CompactMarkup_UsesTheRolesFirstLetterAndNothingBetweenTurns()
    {
        var tok = new CharTokenizer(chatMarkup: ChatMarkups.Compact);
        var chat = new ChatTemplate(tok);
        Assert.Equal(ChatMarkups.Compact, chat.Markup);
        ChatMessage[] messages = [ChatMessage.User("7*3-2"), ChatMessage.Assistant("7*3")];
        string text = chat.RenderText(messages, addGenerationPrompt: true);
        Assert.Equal("<|im_start|>u7*3-2<|im_end|><|im_start|>a7*3<|im_end|><|im_start|>a", text);
        int[] ids = chat.Render(messages, addGenerationPrompt: true);
        Assert.Equal(tok.Encode(text), ids);
        // A compact row's markup: 6 tokens (2 headers of 2, 2 ends) against ChatML's 20 for the same user turn and reply.
        int[] chatMl = new ChatTemplate(new CharTokenizer()).Render([ChatMessage.User("7*3-2")], addGenerationPrompt: true);
        int[] compact = chat.Render([ChatMessage.User("7*3-2")], addGenerationPrompt: true);
        Assert.Equal(5 + 20, chatMl.Length + 1);
        Assert.Equal(5 + 6, compact.Length + 1);
        Assert.Equal(tok.TurnEndId, chat.TurnEndId);
    }

    [Fact]
    public void Char_ChatMarkup_IsSavedWithTheTokenizer_AndABadValueIsNamed()
    {
        string dir = TestModels.TempDir();
        new CharTokenizer(chatMarkup: ChatMarkups.Compact).Save(dir);
        Assert.Equal(ChatMarkups.Compact, TokenizerLoader.Load(dir).ChatMarkup);
        // Files written before the field existed (and ChatML tokenizers, which omit it) read as ChatML.
        string plain = TestModels.TempDir();
        new CharTokenizer().Save(plain);
        Assert.DoesNotContain("chat_markup", File.ReadAllText(Path.Combine(plain, CharTokenizer.FileName)));
        Assert.Equal(ChatMarkups.ChatMl, TokenizerLoader.Load(plain).ChatMarkup);

        string file = Path.Combine(dir, CharTokenizer.FileName);
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"compact\"", "\"terse\""));
        var error = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("chat_markup", error.Message);
        Assert.Contains("terse", error.Message);
        Assert.Contains("chatml, compact", error.Message);
        Assert.Contains("chat_markup is 'x'", Assert.Throws<ArgumentException>(() => new CharTokenizer(chatMarkup: "x")).Message);
    }
    [Fact]
    public void Char_Words_AreOneTokenEach_LongestFirst_AndRoundTrip()
    {
        var tok = new CharTokenizer(chatMarkup: ChatMarkups.Compact, words: ["[FINISH]", "\\boxed{", "Do:", "Do:x"]);
        var plain = new CharTokenizer(chatMarkup: ChatMarkups.Compact);
        Assert.Equal(plain.VocabSize + 4, tok.VocabSize);
        int finish = tok.Encode("[FINISH]").Single();
        Assert.Equal(plain.VocabSize, finish);                                  // words follow the alphabet, in order
        Assert.Equal([plain.VocabSize + 1, .. plain.Encode("31}")], tok.Encode("\\boxed{31}"));
        Assert.Equal(plain.VocabSize + 3, tok.Encode("Do:x").Single());          // the longest word wins
        Assert.Equal([plain.VocabSize + 2, .. plain.Encode("y")], tok.Encode("Do:y"));
        // Text around and between words, special tokens included, keeps one id per character.
        string text = "<|im_start|>a[FINISH<|im_end|>7*3\nDo: 7*3[FINISH]\\boxed{<|im_end|>";
        int[] ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        Assert.Equal(plain.Encode(text).Length - 7 - 6 - 2, ids.Length);
        // A word's ids decode to the same text as its characters: generation may produce either.
        Assert.Equal(tok.Decode(tok.Encode("[FINISH]")), tok.Decode(plain.Encode("[FINISH]")));
        Assert.Equal(Encoding.UTF8.GetBytes("\\boxed{"), tok.TokenBytes(plain.VocabSize + 1).ToArray());
        Assert.False(tok.IsSpecial(finish));
    }

    [Fact]
    public void Char_Words_AreSavedWithTheTokenizer_AndBadOnesAreNamed()
    {
        string dir = TestModels.TempDir();
        new CharTokenizer(chatMarkup: ChatMarkups.Compact, words: ["[FINISH]", "Last:"]).Save(dir);
        var loaded = Assert.IsType<CharTokenizer>(TokenizerLoader.Load(dir));
        Assert.Equal(["[FINISH]", "Last:"], loaded.Words);
        Assert.Single(loaded.Encode("Last:"));
        // Tokenizers without words omit the field, and files without it load with none.
        string plain = TestModels.TempDir();
        new CharTokenizer().Save(plain);
        Assert.DoesNotContain("words", File.ReadAllText(Path.Combine(plain, CharTokenizer.FileName)));
        Assert.Empty(Assert.IsType<CharTokenizer>(TokenizerLoader.Load(plain)).Words);

        foreach ((string[] words, string expected) in new[]
        {
            (new[] { "x" }, "'x' (index 0) must have 2 to 32"),
            (new[] { "ab", "ab" }, "'ab' (index 1) is repeated"),
            (new[] { "a b" }, "must not contain whitespace"),
            (new[] { "a<|b" }, "must not contain '<|'"),
            (new[] { "a<" }, "or end in '<'"),
            (new[] { "é1" }, "U+00E9, which is not in the tokenizer's alphabet"),
        })
        {
            Assert.Contains(expected, Assert.Throws<ArgumentException>(() => new CharTokenizer(words: words)).Message);
        }
        string file = Path.Combine(dir, CharTokenizer.FileName);
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"Last:\"", "\"[FINISH]\""));
        var repeated = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Contains(file, repeated.Message);
        Assert.Contains("'[FINISH]' (index 1) is repeated", repeated.Message);
        File.WriteAllText(file, """{ "type": "char", "special_tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "alphabet": "ab", "words": "ab" }""");
        Assert.Contains("field 'words' is \"ab\"; expected an array of strings", Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir)).Message);
    }
}
