import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodBody, ZodQuery } from '../common/openapi';
import { body, query, UuidParam } from '../common/zod-validation.pipe';
import { AdminGuard, CurrentUser } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { AdminCatalogService } from './admin-catalog.service';
import { AdminPromptsService } from './admin-prompts.service';
import { LetterPreviewService } from './letter-preview.service';
import { LetterPreviewInput, type LetterPreviewParams, PersonaCreate, PersonaPatch, PromptCreate, PromptDiffQuery, PromptWeights, TopicCreate, TopicPatch, type PromptCreateInput, type TopicPatchInput, type PersonaPatchInput, type PersonaCreateInput, type PromptDiffParams, type TopicCreateInput, type PromptWeightsInput } from '@mz/api-schemas';

@ApiTags('admin: catalogue')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminCatalogController {
  constructor(private readonly catalog: AdminCatalogService, private readonly prompts: AdminPromptsService, private readonly preview: LetterPreviewService) {}

  @Get('topics')
  @ApiOperation({ summary: 'All topics with persona, settings, enabled subscribers and active prompt versions' })
  async topics() {
    return { topics: await this.catalog.listTopics() };
  }

  @Get('topics/:id')
  topic(@Param('id', UuidParam) id: string) {
    return this.catalog.topic(id);
  }

  @Post('topics')
  @ApiOperation({ summary: 'Create a topic with its first prompt version (copied from the oldest topic when omitted)' })
  @ZodBody(TopicCreate)
  createTopic(@CurrentUser() admin: SessionUser, @Body(body(TopicCreate)) input: TopicCreateInput) {
    return this.catalog.createTopic(admin, input);
  }

  @Patch('topics/:id')
  @ApiOperation({ summary: 'Edit a topic\'s settings (the code is fixed: it tags sent subjects)' })
  @ZodBody(TopicPatch)
  updateTopic(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string, @Body(body(TopicPatch)) patch: TopicPatchInput) {
    return this.catalog.updateTopic(admin, id, patch);
  }

  @Post('topics/:id/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Compose a sample letter for the topic with the given voice settings, through the real composer; nothing is stored or sent (502: the composer failed, 504: no composer answered)' })
  @ZodBody(LetterPreviewInput)
  previewTopic(@Param('id', UuidParam) id: string, @Body(body(LetterPreviewInput)) voice: LetterPreviewParams) {
    return this.preview.preview(id, voice);
  }

  @Get('personas')
  async personas() {
    return { personas: await this.catalog.listPersonas() };
  }

  @Post('personas')
  @ZodBody(PersonaCreate)
  createPersona(@CurrentUser() admin: SessionUser, @Body(body(PersonaCreate)) input: PersonaCreateInput) {
    return this.catalog.createPersona(admin, input);
  }

  @Patch('personas/:id')
  @ZodBody(PersonaPatch)
  updatePersona(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string, @Body(body(PersonaPatch)) patch: PersonaPatchInput) {
    return this.catalog.updatePersona(admin, id, patch);
  }

  @Delete('personas/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a persona no topic uses (409 otherwise)' })
  async deletePersona(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string): Promise<void> {
    await this.catalog.deletePersona(admin, id);
  }

  @Get('topics/:id/prompts')
  @ApiOperation({ summary: 'Prompt versions of a topic, newest first' })
  async promptVersions(@Param('id', UuidParam) id: string) {
    return { versions: await this.prompts.list(id) };
  }

  @Post('topics/:id/prompts')
  @ApiOperation({ summary: 'Create a new immutable version (version = max + 1); activate: true makes it the only active one' })
  @ZodBody(PromptCreate)
  createPrompt(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string, @Body(body(PromptCreate)) input: PromptCreateInput) {
    return this.prompts.create(admin, id, input);
  }

  @Get('topics/:id/prompts/diff')
  @ApiOperation({ summary: 'Line diff of two versions: per template, lines [{op: " "|"-"|"+", text, oldLine, newLine}] and unified text' })
  @ZodQuery(PromptDiffQuery)
  diff(@Param('id', UuidParam) id: string, @Query(query(PromptDiffQuery)) q: PromptDiffParams) {
    return this.prompts.diff(id, q.from, q.to);
  }

  @Put('topics/:id/prompts/weights')
  @ApiOperation({ summary: 'A/B test: the listed versions become active with these weights, all others inactive' })
  @ZodBody(PromptWeights)
  async weights(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string, @Body(body(PromptWeights)) input: PromptWeightsInput) {
    return { versions: await this.prompts.setWeights(admin, id, input) };
  }

  @Get('prompts/:id')
  prompt(@Param('id', UuidParam) id: string) {
    return this.prompts.one(id);
  }

  @Post('prompts/:id/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make this version the only active one of its topic' })
  activate(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string) {
    return this.prompts.activate(admin, id);
  }
}
