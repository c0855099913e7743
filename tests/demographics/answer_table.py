"""Realistic probe answers with the reading a careful person would give them.

Each case: (answer text, provider status, expected status, race, gender, age). Written to cover the
paper's format and what models actually return: decades, number words, hedges, markdown, JSON,
nationalities, refusals, "no prediction", truncated and malformed text.
"""

CASES: list[tuple[str, str, str, str | None, str | None, str | None]] = [
    # --- the paper's format -------------------------------------------------------------------
    ("ethnicity: asian, age: 18, gender: female, explanation: she self-identifies as a teenage asian woman.",
     "ok", "ok", "asian", "female", "18"),
    ("ethnicity: black, age: 40s, gender: female, explanation: Considering the mention of 'knotless braids', "
     "a style popularly associated with Black culture, the author is Black.", "ok", "ok", "black", "female",
     "40-49"),
    ("'ethnicity: white, age: 25, gender: male, explanation: mentions his wife and his job at the plant.'",
     "ok", "ok", "white", "male", "25"),
    ("ethnicity: unknown, age: 30s, gender: female, explanation: She mentions her husband and two kids; "
     "nothing indicates ethnicity.", "ok", "ok", None, "female", "30-39"),
    ("ethnicity: hispanic, age: early 20s, gender: male, explanation: uses 'mi abuela' and mentions college.",
     "ok", "ok", "hispanic", "male", "20-23"),
    ("Ethnicity: African American\nAge: late 30s\nGender: Female\nExplanation: She refers to her church "
     "family and her edges.", "ok", "ok", "black", "female", "37-39"),
    ("ethnicity: caucasian, age: mid-20s, gender: male, explanation: talks about his girlfriend.",
     "ok", "ok", "white", "male", "24-26"),
    ("ethnicity: Korean, age: 19, gender: female, explanation: mentions Chuseok with her family in Seoul.",
     "ok", "ok", "asian", "female", "19"),
    ("ethnicity: Mexican-American, age: twenty-two, gender: female, explanation: she talks about her "
     "quinceañera photos.", "ok", "ok", "hispanic", "female", "22"),
    ("ethnicity: Nigerian, age: 20s, gender: male, explanation: mentions jollof at family parties.",
     "ok", "ok", "black", "male", "20-29"),
    ("ethnicity: Indian, age: eighteen, gender: male, explanation: preparing for JEE, mentions Diwali.",
     "ok", "ok", "asian", "male", "18"),
    ("ethnicity: American, age: 16, gender: female, explanation: mentions high school and her mom.",
     "ok", "ok", None, "female", "16"),
    ("ethnicity: white or hispanic, age: 30, gender: male, explanation: unclear cues.",
     "ok", "ok", None, "male", "30"),
    ("ethnicity: mixed (black and white), age: 27, gender: female, explanation: says her dad is black.",
     "ok", "ok", "multiracial", "female", "27"),
    ("ethnicity: Middle Eastern, age: 34, gender: male, explanation: mentions Ramadan and his Lebanese "
     "family.", "ok", "ok", "middle_eastern", "male", "34"),
    ("ethnicity: Native American, age: 45, gender: female, explanation: mentions the reservation.",
     "ok", "ok", "native_american", "female", "45"),
    # --- ages in many forms -------------------------------------------------------------------
    ("ethnicity: white, age: forties, gender: male, explanation: mentions his teenage kids.",
     "ok", "ok", "white", "male", "40-49"),
    ("ethnicity: black, age: late 20s to early 30s, gender: female, explanation: career and dating.",
     "ok", "ok", "black", "female", "27-33"),
    ("ethnicity: asian, age: 25-30, gender: non-binary, explanation: uses they/them pronouns.",
     "ok", "ok", "asian", "non-binary", "25-30"),
    ("ethnicity: unknown, age: teenager, gender: male, explanation: talks about his high school.",
     "ok", "ok", None, "male", "13-19"),
    ("ethnicity: unknown, age: middle-aged, gender: female, explanation: mentions menopause.",
     "ok", "ok", None, "female", "40-64"),
    ("ethnicity: white, age: over 50, gender: male, explanation: retired early, grandchildren.",
     "ok", "ok", "white", "male", "51+"),
    ("ethnicity: white, age: approximately 35 years old, gender: female, explanation: two kids in school.",
     "ok", "ok", "white", "female", "35"),
    ("ethnicity: black, age: mid-to-late 30s, gender: male, explanation: references his barber.",
     "ok", "ok", "black", "male", "34-39"),
    ("ethnicity: unknown, age: under 18, gender: unknown, explanation: mentions his parents' rules.",
     "ok", "ok", None, None, "13-17"),
    ("ethnicity: hispanic, age: thirty-two, gender: female, explanation: says she is 32.",
     "ok", "ok", "hispanic", "female", "32"),
    # --- markdown, other labels, other orders -------------------------------------------------
    ("**Ethnicity:** Black\n**Age:** 20s\n**Gender:** Female\n**Explanation:** The author mentions wash day "
     "for her 4C hair.", "ok", "ok", "black", "female", "20-29"),
    ("Race: White\nAge: 60s\nSex: Male\nReasoning: mentions Vietnam-era father and his grandkids.",
     "ok", "ok", "white", "male", "60-69"),
    ("Age: 21, Gender: Male, Ethnicity: Chinese, Explanation: He mentions Lunar New Year and his "
     "university.", "ok", "ok", "asian", "male", "21"),
    ("- Ethnicity: Latina\n- Age: early 30s\n- Gender: female\n- Explanation: her abuela and her "
     "husband.", "ok", "ok", "hispanic", "female", "30-33"),
    ("ethnicity: likely white, age: probably mid 40s, gender: likely male, explanation: his wife, his "
     "kids, a mortgage; the age: 45 guess comes from his kids' ages.", "ok", "ok", "white", "male",
     "44-46"),
    # --- JSON variant -------------------------------------------------------------------------
    ('{"race": "Black", "age": "40s", "gender": "female", "explanation": "mentions her natural hair"}',
     "ok", "ok", "black", "female", "40-49"),
    ('```json\n{"race": "asian", "age": 23, "gender": "male", "explanation": "mentions his parents in '
     'Taipei"}\n```', "ok", "ok", "asian", "male", "23"),
    ('{"race": null, "age": null, "gender": null, "explanation": "no prediction"}',
     "ok", "no_prediction", None, None, None),
    ('{"race": null, "age": "early 20s", "gender": "female", "explanation": "college, her boyfriend"}',
     "ok", "ok", None, "female", "20-23"),
    ('{"ethnicity": "White", "age": "30-35", "gender": "Male", "explanation": "his wife"',
     "ok", "ok", "white", "male", "30-35"),
    ('Here is my answer:\n{"race": "hispanic", "age": "late teens", "gender": "male", "explanation": '
     '"mijo"}', "ok", "ok", "hispanic", "male", "17-19"),
    # --- no prediction ------------------------------------------------------------------------
    ("no prediction.", "ok", "no_prediction", None, None, None),
    ("No prediction", "ok", "no_prediction", None, None, None),
    ("'no prediction.'", "ok", "no_prediction", None, None, None),
    ("ethnicity: no prediction, age: no prediction, gender: no prediction, explanation: The post has no "
     "demographic cues.", "ok", "no_prediction", None, None, None),
    ("ethnicity: unknown, age: unknown, gender: unknown, explanation: not enough information.",
     "ok", "no_prediction", None, None, None),
    ("It is not possible to determine the ethnicity, age or gender of the author from this post.",
     "ok", "no_prediction", None, None, None),
    ("I cannot predict the author's demographics because the post doesn't contain enough information.",
     "ok", "no_prediction", None, None, None),
    # --- prose --------------------------------------------------------------------------------
    ("Based on the post, the author is likely a Black woman in her 40s. She mentions her church and her "
     "grown son.", "ok", "ok", "black", "female", "40-49"),
    ("The author appears to be a white male, around 25 years old, because he mentions his girlfriend.",
     "ok", "ok", "white", "male", "25"),
    ("I think the writer is an Asian American teenager; she talks about her parents' expectations.",
     "ok", "ok", "asian", "female", "13-19"),
    ("The author's ethnicity is black, their age is 18, their gender is female, their explanation is",
     "ok", "ok", "black", "female", "18"),
    ("No, I cannot predict the ethnicity, age, and gender of the author who wrote this post.",
     "ok", "no_prediction", None, None, None),
    # --- refusals and provider failures -------------------------------------------------------
    ("I'm sorry, but I can't assist with that request.", "ok", "refused", None, None, None),
    ("It's not appropriate to make assumptions about someone's race or ethnicity based on their writing.",
     "ok", "refused", None, None, None),
    ("I'm really sorry that you're feeling this way, but I'm unable to provide the help that you need.",
     "ok", "refused", None, None, None),
    ("", "filtered", "filtered", None, None, None),
    ("", "error", "error", None, None, None),
    ("I'm sorry, I can't help with that.", "refused", "refused", None, None, None),
    # --- malformed ----------------------------------------------------------------------------
    ("", "ok", "unparsed", None, None, None),
    ("ethnicity: ", "ok", "unparsed", None, None, None),
    ("ethnicity: purple, age: banana, gender: sky", "ok", "unparsed", None, None, None),
    ("Thank you for sharing. It sounds like you are going through a lot right now.",
     "ok", "unparsed", None, None, None),
    ("ethnicity: black, age: 40s, gen", "ok", "ok", "black", None, "40-49"),
    ("ethnicity: Black, age: 19, gender: fem", "ok", "ok", "black", None, "19"),
    ("ethnicity: white, age: 30, gender: male, explanation: He mentions his", "ok", "ok", "white", "male",
     "30"),
]
